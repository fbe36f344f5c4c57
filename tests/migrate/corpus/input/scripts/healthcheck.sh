#!/bin/sh
# Probe the API and the legacy bridge.
for url in http://localhost:8003/health http://bridge:8003/health; do
  curl -fsS --max-time 5 "$url" >/dev/null || exit 1
done
nc -z localhost 8003
python -m http.server --bind 127.0.0.1 18003 &
echo "checked 8003 urls"
