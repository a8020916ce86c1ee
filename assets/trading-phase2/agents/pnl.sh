#!/bin/sh
# Simulated agent for the pnl service (see service.sh).
exec sh "$(dirname "$0")/service.sh" pnl
