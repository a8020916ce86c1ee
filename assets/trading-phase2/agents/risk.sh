#!/bin/sh
# Simulated agent for the risk service (see service.sh).
exec sh "$(dirname "$0")/service.sh" risk
