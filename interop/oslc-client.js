// The OSLC organisation's Node client (npm oslc-client, unmodified) against st2-oslc: rootservices → catalog →
// use(provider title) → query → create → read → update → read → delete, with HTTP Basic (any user, the API token as
// password) answered to the server's challenge and the session cookie it then holds, as against a Jazz server.
// Usage: node oslc-client.js BASE_URL TOKEN. Prints one line per step; exits 1 at the first step that fails.
'use strict'
const OSLCServer = require('oslc-client')
const OSLCResource = require('oslc-client/OSLCResource')
const rdflib = require('rdflib')

const [base, token] = process.argv.slice(2)
const ST2 = rdflib.Namespace('https://w3id.org/st2-oslc/ns#')
const XSD = rdflib.Namespace('http://www.w3.org/2001/XMLSchema#')
const name = 'made_by_oslc_client_' + process.pid

function step(label, ok, detail) {
  console.log(`${ok ? 'ok' : 'FAILED'} ${label}: ${detail}`)
  if (!ok) process.exit(1)
}
const call = (f, ...args) => new Promise((resolve) => f(...args, (err, result) => resolve([err, result])))

async function main() {
  const server = new OSLCServer(base, 'oslc-client', token)
  const [connectErr] = await call(server.connect.bind(server), OSLCCM10('cmServiceProviders'))
  step('connect', !connectErr && server.serviceProviderCatalog, `catalog ${server.serviceProviderCatalog && server.serviceProviderCatalog.getURI()}`)

  const [useErr] = await call(server.use.bind(server), 'StackStorm rules')
  step('use', !useErr && server.serviceProvider, `provider ${server.serviceProvider && server.serviceProvider.getURI()}`)

  const queryBase = server.serviceProvider.queryBase(ST2('Rule').uri)
  step('queryBase', !!queryBase, queryBase)
  const [queryErr, enabled] = await call(server.query.bind(server), {
    from: queryBase, prefix: 'st2=<https://w3id.org/st2-oslc/ns#>,dcterms=<http://purl.org/dc/terms/>',
    select: 'dcterms:title,st2:enabled', where: 'st2:enabled=true',
  })
  step('query', !queryErr && enabled.length > 0 && enabled.every((r) => r.get(ST2('enabled')) === 'true'),
    `${enabled && enabled.length} enabled rules: ${enabled && enabled.map((r) => r.getTitle()).join(', ')}`)

  const rule = new OSLCResource()
  rule.kb.add(rule.id, RDF('type'), ST2('Rule'))
  rule.kb.add(rule.id, DCTERMS('title'), rdflib.literal(name))
  rule.kb.add(rule.id, ST2('pack'), rdflib.literal('default'))
  rule.kb.add(rule.id, ST2('triggerType'), rdflib.literal('core.st2.webhook'))
  rule.kb.add(rule.id, ST2('triggerParameters'), rdflib.literal('{"url": "oslc-client"}'))
  rule.kb.add(rule.id, ST2('actionRef'), rdflib.literal('core.local'))
  rule.kb.add(rule.id, ST2('enabled'), rdflib.literal('true', undefined, XSD('boolean')))
  const [createErr, created] = await call(server.create.bind(server), ST2('Rule'), rule)
  step('create', !createErr && created && created.getTitle() === name, `${createErr || created.getURI()}`)
  const uri = created.getURI()

  const [readErr, read] = await call(server.read.bind(server), uri)
  step('read', !readErr && read.getTitle() === name && !!read.etag, `title ${read && read.getTitle()}, ETag ${read && read.etag}`)

  read.setDescription('changed by oslc-client')
  const [updateErr] = await call(server.update.bind(server), read)
  const [rereadErr, reread] = await call(server.read.bind(server), uri)
  step('update', !updateErr && !rereadErr && reread.getDescription() === 'changed by oslc-client' && reread.etag !== read.etag,
    `description ${reread && reread.getDescription()}, ETag ${reread && reread.etag}`)

  const [deleteErr] = await call(server.delete.bind(server), uri)
  const [goneErr] = await call(server.read.bind(server), uri)
  step('delete', !deleteErr && goneErr === 404, `a read after it answers ${goneErr}`)

  const [afterErr, after] = await call(server.query.bind(server), {
    from: queryBase, prefix: 'dcterms=<http://purl.org/dc/terms/>', select: 'dcterms:title', where: `dcterms:title="${name}"`,
  })
  step('query after delete', !afterErr && after.length === 0, `${after && after.length} rules named ${name}`)
}

main().catch((e) => step('run', false, e && e.stack))
