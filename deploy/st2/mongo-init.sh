#!/usr/bin/env bash
# Makes mongo1..3 the replica set rs0 once they answer; does nothing when it exists already.
set -euo pipefail
for host in mongo1 mongo2 mongo3; do
  until mongo --quiet --host "$host" --eval 'db.adminCommand("ping").ok' | grep -q 1; do sleep 1; done
done
mongo --quiet --host mongo1 --eval '
  try { rs.status().ok } catch (e) {
    rs.initiate({_id: "rs0", members: [
      {_id: 0, host: "mongo1:27017"}, {_id: 1, host: "mongo2:27017"}, {_id: 2, host: "mongo3:27017"}]})
  }'
