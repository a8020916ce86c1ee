#!/bin/sh
# Simulated agent for the hot_cache service (see service.sh).
exec sh "$(dirname "$0")/service.sh" hot_cache
