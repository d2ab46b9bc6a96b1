// The live event feed: an EventSource on the stream, each OSLC Event shown as a row (text only, never markup).
// The browser resumes after a dropped connection with Last-Event-ID, the last event's trs:order.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var feed = document.getElementById('oslc-live');
    var state = document.getElementById('oslc-live-state');
    if (!feed || !window.EventSource) { return; }
    var source = new EventSource(feed.dataset.stream);
    source.onopen = function () { state.textContent = 'Connected'; };
    source.onerror = function () { state.textContent = 'Reconnecting…'; };
    source.addEventListener('oslc-event', function (message) {
      var event = JSON.parse(message.data);
      var row = document.createElement('tr');
      var types = Array.isArray(event.type) ? event.type : [event.type];
      [message.lastEventId, types.filter(function (t) { return t !== 'Event'; }).join(' '), event.changed, event.created]
        .forEach(function (value) {
          var cell = document.createElement('td');
          if (value === event.changed && /^https?:\/\//i.test(value)) {
            var link = document.createElement('a');
            link.href = value;
            link.textContent = value;
            cell.appendChild(link);
          } else {
            cell.textContent = value === undefined ? '' : String(value);
          }
          row.appendChild(cell);
        });
      row.className = 'oslc-live-event';
      feed.insertBefore(row, feed.firstChild);
      while (feed.children.length > 500) { feed.removeChild(feed.lastChild); }
    });
  });
})();
