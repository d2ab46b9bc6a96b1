"""PyPI oslc4py-client (unmodified) against st2-oslc: catalog (found at /.well-known/oslc/sp-catalog) → provider →
the service whose query capability and creation factory take st2:Rule → a query → a create through the creation
factory → a read of the new rule → a query that finds it, all in RDF/XML. Credentials: HTTP Basic from the netrc
file named by $NETRC (requests reads it; oslc4py sends no header of its own).
Usage: python oslc4py_walk.py HOST_URL PORT. One line per step; exit 1 at the first step that fails."""
import os
import sys
from urllib.parse import quote, urlsplit

from oslc4py_client.OSLCPythonClient import OSLCPythonClient

from oslc_st2_domain import ST2, DirectContainer, ResponseInfo, Rule, ServiceProvider, ServiceProviderCatalog


def step(label, ok, detail):
    print(f"{'ok' if ok else 'FAILED'} {label}: {detail}", flush=True)
    if not ok:
        sys.exit(1)


def path(uri):
    """The endpoint oslc4py wants: the URI's path and query without the leading slash."""
    parts = urlsplit(str(uri))
    return parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")


def query(client, base, where):
    params = {"oslc.prefix": f"st2=<{ST2}>,dcterms=<http://purl.org/dc/terms/>", "oslc.where": where,
              "oslc.select": "dcterms:title,st2:enabled", "oslc.paging": "true", "oslc.pageSize": "50"}
    url = path(base) + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    info = client.get(url, ResponseInfo())
    members = client.get(url, DirectContainer())
    return int(str(info.total_count)), [str(m) for m in (members.member or [])]


def main():
    host, port = sys.argv[1], sys.argv[2]
    name = f"made_by_oslc4py_{os.getpid()}"
    client = OSLCPythonClient(host, port)

    catalog = client.get(".well-known/oslc/sp-catalog", ServiceProviderCatalog())
    step("catalog", bool(catalog.service_provider), f"{catalog.uri} lists {catalog.service_provider}")

    provider = client.get(path(catalog.service_provider[0]), ServiceProvider())
    step("provider", bool(provider.service), f"{provider.uri} ({provider.title}): {len(provider.service)} services")

    rule_type = str(ST2.Rule)
    capabilities = [q for s in provider.service for q in (s.query_capability or []) if rule_type in q.resource_type]
    factories = [f for s in provider.service for f in (s.creation_factory or []) if rule_type in f.resource_type]
    step("query capability", len(capabilities) == 1, f"{capabilities[0].title}: {capabilities[0].query_base}")
    step("creation factory", len(factories) == 1, f"{factories[0].title}: {factories[0].creation}")
    query_base = capabilities[0].query_base

    total, members = query(client, query_base, "st2:enabled=true")
    step("query", total > 0 and len(members) == total, f"{total} enabled rules")

    rule = Rule()
    rule.title = name
    rule.pack = "default"
    rule.trigger_type = "core.st2.webhook"
    rule.trigger_parameters = '{"url": "oslc4py"}'
    rule.action_ref = "core.local"
    rule.enabled = True
    created = client.post(path(factories[0].creation), rule, Rule())
    step("create", created.uri is not None and created.title == name, f"{created.uri}")

    read = client.get(path(created.uri), Rule())
    step("read", read.title == name and str(read.enabled) == "true", f"{read.uri}: {read.title}, enabled {read.enabled}")

    total, members = query(client, query_base, f'dcterms:title="{name}"')
    step("query finds it", total == 1 and members == [str(created.uri)], f"{members}")


if __name__ == "__main__":
    main()
