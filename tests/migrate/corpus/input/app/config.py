from dataclasses import dataclass


@dataclass
class ServerConfig:
    host: str = "0.0.0.0"
    port: int = 8003
    legacy_port: int = 8003
    admin_port: int = 18003
    timeout_ms: int = 8003
    build: str = "2018003"
    release_sha: str = "8003e4b2c1a9"


SETTINGS = {
    "port": 8003,
    "bridge": {"url": "http://bridge:8003", "retries": 3},
    "pool_size": 8003,
    "version": "3.8003.1",
}

UPSTREAMS = ["api-1:8003", "api-2:8003", "10.0.0.7:8003"]
