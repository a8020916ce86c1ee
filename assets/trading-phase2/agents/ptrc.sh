#!/bin/sh
# Simulated agent for the ptrc service (see service.sh).
exec sh "$(dirname "$0")/service.sh" ptrc
