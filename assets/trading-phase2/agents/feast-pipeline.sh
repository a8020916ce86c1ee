#!/bin/sh
# Simulated agent for the feast-pipeline service (see service.sh).
exec sh "$(dirname "$0")/service.sh" feast-pipeline
