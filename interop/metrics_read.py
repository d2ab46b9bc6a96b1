"""Parses OpenMetrics text (stdin) with the Prometheus Python client's parser, as a Prometheus server would read
st2-oslc's /metrics, for adapter-stackstorm/tests/binary.rs; prints each sample as a JSON line (name, labels,
value). The parser is strict: text it cannot read fails the run."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "name": sample.name,
                          "labels": sample.labels, "value": sample.value}))
