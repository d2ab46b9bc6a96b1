"""Reads Kafka records with the CloudEvents Python SDK (PyPI `cloudevents`, its Kafka protocol binding), for
oslc-events/tests/kafka.rs: one JSON object a line on stdin ({"headers": {name: text}, "key": text, "value":
base64}); for each, one JSON line on stdout with the attributes and the data the SDK read. Structured mode when the
record's content-type is application/cloudevents+json, binary mode otherwise. The SDK refuses a record that lacks a
required attribute (specversion, id, source, type), which fails the run."""

import base64
import json
import sys

from cloudevents.kafka import KafkaMessage, from_binary, from_structured


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


for line in sys.stdin:
    record = json.loads(line)
    headers = {name: value.encode() for name, value in record["headers"].items()}
    message = KafkaMessage(headers=headers, key=record["key"], value=base64.b64decode(record["value"]))
    if headers.get("content-type", b"").decode().startswith("application/cloudevents+json"):
        event = from_structured(message)
    else:
        event = from_binary(message, data_unmarshaller=lambda data: data.decode())
    attributes = {name: text(value) for name, value in event.get_attributes().items()}
    print(json.dumps({"attributes": attributes, "data": event.get_data()}))
