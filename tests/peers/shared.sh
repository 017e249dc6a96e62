#!/bin/sh
# Peers that are expensive to start (the private Tor network) are started once
# per test run and shared; tests/run calls "shared.sh stop" at the end.
# (Nothing is shared yet.)
case "${1:-}" in
  stop) exit 0 ;;
  *) echo "usage: shared.sh stop" >&2; exit 64 ;;
esac
