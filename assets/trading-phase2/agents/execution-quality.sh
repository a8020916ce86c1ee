#!/bin/sh
# Simulated agent for the execution-quality service (see service.sh).
exec sh "$(dirname "$0")/service.sh" execution-quality
