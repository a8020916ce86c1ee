#!/bin/sh
# Simulated agent for the exeq service (see service.sh).
exec sh "$(dirname "$0")/service.sh" exeq
