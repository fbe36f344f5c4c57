#!/usr/bin/env bash
# Start the API locally. Exit code 8003 means the port is taken.
set -euo pipefail

PORT="${API_PORT:-8003}"
export SOPHIA_PORT=8003

docker run -d --name bi-api -p 8003:8003 -e PORT=8003 registry.example.com/bi/api:1.8003.2
gunicorn app.main:app -b 0.0.0.0:8003 --timeout 8003
curl -fsS "http://localhost:8003/health" || echo "not up yet after 8003 ms"
echo "Call support at 555-8003 if this fails."
