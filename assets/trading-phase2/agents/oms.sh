#!/bin/sh
# Simulated agent for the oms service (see service.sh).
exec sh "$(dirname "$0")/service.sh" oms
