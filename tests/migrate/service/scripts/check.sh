#!/bin/sh
set -e
python -m config.manager --check
echo "config/manager.py is fine"
