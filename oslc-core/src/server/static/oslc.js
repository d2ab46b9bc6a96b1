// The oslc-core kit's pages: delegated dialogs answer their opener or parent (OSLC Core 3.0 Delegated Dialogs),
// dialogs and previews ask to be resized (Resource Preview), and DELETE actions run from a button. No framework;
// values are only ever set as text.
(function () {
  'use strict';

  function target() {
    if (window.opener) { return window.opener; }
    return window.parent !== window ? window.parent : null;
  }

  function send(message) {
    var t = target();
    if (t) { t.postMessage(message, '*'); }
  }

  // oslc-response: with oslc:results of oslc:label and rdf:resource; an empty array means cancelled.
  function respond(results) {
    send('oslc-response:' + JSON.stringify({
      'oslc:results': results.map(function (r) { return { 'oslc:label': r.label, 'rdf:resource': r.uri }; })
    }));
  }

  function resize() {
    var e = document.documentElement;
    send('oslc-resize:' + JSON.stringify({ 'oslc:hintHeight': e.scrollHeight + 'px', 'oslc:hintWidth': e.scrollWidth + 'px' }));
  }

  document.addEventListener('DOMContentLoaded', function () {
    var body = document.body;
    document.documentElement.setAttribute('data-oslc-ready', '');
    document.querySelectorAll('button.oslc-pick').forEach(function (b) {
      b.addEventListener('click', function () { respond([{ label: b.dataset.label, uri: b.dataset.uri }]); });
    });
    var confirm = document.getElementById('oslc-confirm');
    if (confirm) {
      confirm.addEventListener('click', function () {
        var checked = Array.prototype.slice.call(document.querySelectorAll('input.oslc-check:checked'));
        respond(checked.map(function (c) { return { label: c.dataset.label, uri: c.value }; }));
      });
    }
    var cancel = document.getElementById('oslc-cancel');
    if (cancel) { cancel.addEventListener('click', function () { respond([]); }); }
    if (body.classList.contains('oslc-dialog')) {
      document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { respond([]); } });
    }
    var created = document.getElementById('oslc-created');
    if (created) { respond([{ label: created.dataset.label, uri: created.dataset.uri }]); }
    if (body.classList.contains('oslc-dialog') || body.classList.contains('oslc-preview')) { resize(); }
    document.querySelectorAll('button[data-oslc-delete]').forEach(function (b) {
      b.addEventListener('click', function () {
        fetch(b.dataset.oslcDelete, { method: 'DELETE', credentials: 'same-origin' }).then(function (r) {
          if (r.ok) { window.location.href = b.dataset.oslcThen; } else { b.textContent = 'Failed: HTTP ' + r.status; }
        });
      });
    });
  });
})();
