#!/bin/sh
# Simulated agent for the questdb_writer service (see service.sh).
exec sh "$(dirname "$0")/service.sh" questdb_writer
