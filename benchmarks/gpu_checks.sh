#!/usr/bin/env bash
# The one command of a GPU session: every GPU check in one go (benchmarks/gpu/gpu_checks.sh says what and how long).
exec bash "$(dirname "$0")/gpu/gpu_checks.sh" "$@"
