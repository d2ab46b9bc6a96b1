"""The OSLC resource classes oslc4py-client reads and writes in interop/oslc4py_walk.py, declared with its decorators
as its users declare their domains: OSLC Core discovery (catalog, provider, service, query capability, creation
factory), the query result container and its response info, and the StackStorm rule."""
from rdflib import Namespace
from oslc4py_client.OSLCResource import OSLCResource
from oslc4py_client.annotation_types.Occurs import Occurs
from oslc4py_client.annotation_types.ValueType import ValueType
from oslc4py_client.decorators import (oslc_name, oslc_namespace, oslc_occurs, oslc_property_definition, oslc_range,
                                       oslc_resource_shape, oslc_value_type)

OSLC = Namespace("http://open-services.net/ns/core#")
LDP = Namespace("http://www.w3.org/ns/ldp#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
ST2 = Namespace("https://w3id.org/st2-oslc/ns#")


def prop(name, definition, occurs=Occurs.ZERO_OR_ONE, value_type=ValueType.STRING, range_=None):
    """A property declared with oslc4py's decorators, stored on the instance as `_<name>`."""
    def fget(self):
        return getattr(self, "_" + name, None)

    def fset(self, value):
        setattr(self, "_" + name, value)

    for decorate in (oslc_name(name), oslc_property_definition(definition), oslc_occurs(occurs),
                     oslc_value_type(value_type)):
        fget = decorate(fget)
    if range_ is not None:
        fget = oslc_range(range_)(fget)
    return property(fget, fset)


def resource(namespace, name):
    """Declares a class as the OSLC resource type namespace+name."""
    def decorate(cls):
        cls = oslc_namespace(namespace)(cls)
        cls = oslc_name(name)(cls)
        return oslc_resource_shape(describes=str(namespace[name]), title=name)(cls)
    return decorate


MANY = Occurs.ZERO_OR_MANY


@resource(OSLC, "ServiceProviderCatalog")
class ServiceProviderCatalog(OSLCResource):
    title = prop("title", DCTERMS.title, value_type=ValueType.XMLLITERAL)
    service_provider = prop("serviceProvider", OSLC.serviceProvider, MANY, ValueType.RESOURCE)


@resource(OSLC, "QueryCapability")
class QueryCapability(OSLCResource):
    title = prop("title", DCTERMS.title, value_type=ValueType.XMLLITERAL)
    query_base = prop("queryBase", OSLC.queryBase, Occurs.EXACTLY_ONE, ValueType.RESOURCE)
    resource_type = prop("resourceType", OSLC.resourceType, MANY, ValueType.RESOURCE)


@resource(OSLC, "CreationFactory")
class CreationFactory(OSLCResource):
    title = prop("title", DCTERMS.title, value_type=ValueType.XMLLITERAL)
    creation = prop("creation", OSLC.creation, Occurs.EXACTLY_ONE, ValueType.RESOURCE)
    resource_type = prop("resourceType", OSLC.resourceType, MANY, ValueType.RESOURCE)


@resource(OSLC, "Service")
class Service(OSLCResource):
    domain = prop("domain", OSLC.domain, Occurs.EXACTLY_ONE, ValueType.RESOURCE)
    query_capability = prop("queryCapability", OSLC.queryCapability, MANY, ValueType.LOCALRESOURCE,
                            str(OSLC.QueryCapability))
    creation_factory = prop("creationFactory", OSLC.creationFactory, MANY, ValueType.LOCALRESOURCE,
                            str(OSLC.CreationFactory))


@resource(OSLC, "ServiceProvider")
class ServiceProvider(OSLCResource):
    title = prop("title", DCTERMS.title, value_type=ValueType.XMLLITERAL)
    service = prop("service", OSLC.service, MANY, ValueType.LOCALRESOURCE, str(OSLC.Service))


@resource(OSLC, "ResponseInfo")
class ResponseInfo(OSLCResource):
    total_count = prop("totalCount", OSLC.totalCount, value_type=ValueType.INTEGER)
    next_page = prop("nextPage", OSLC.nextPage, value_type=ValueType.RESOURCE)


@resource(LDP, "DirectContainer")
class DirectContainer(OSLCResource):
    member = prop("member", RDFS.member, MANY, ValueType.RESOURCE)


@resource(ST2, "Rule")
class Rule(OSLCResource):
    title = prop("title", DCTERMS.title, Occurs.EXACTLY_ONE)
    description = prop("description", DCTERMS.description)
    pack = prop("pack", ST2.pack)
    trigger_type = prop("triggerType", ST2.triggerType, Occurs.EXACTLY_ONE)
    trigger_parameters = prop("triggerParameters", ST2.triggerParameters)
    action_ref = prop("actionRef", ST2.actionRef, Occurs.EXACTLY_ONE)
    enabled = prop("enabled", ST2.enabled, value_type=ValueType.BOOLEAN)
