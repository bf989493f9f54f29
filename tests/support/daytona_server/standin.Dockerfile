# A stand-in for each service of the fleet's own Daytona server but the API (Postgres, Redis,
# Dex, MinIO, the registry, the runner, the proxy, the SSH gateway), for tests on machines that
# reach no container registry. It answers what the fleet's health checks ask, under the same
# commands (curl, wget, pg_isready, redis-cli, the ssh gateway's socket table), and as the proxy
# it forwards the toolbox to the API. Built with tests/support/daytona_server as the context.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 curl wget \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/dex && chown 1001:1001 /var/dex
COPY standin.py /usr/local/bin/standin
COPY listening /usr/local/bin/listening
RUN chmod 0755 /usr/local/bin/standin /usr/local/bin/listening \
 && ln -s standin /usr/local/bin/dex && ln -s standin /usr/local/bin/redis-server \
 && printf '#!/bin/sh\nexec listening 5432\n' > /usr/local/bin/pg_isready \
 && printf '#!/bin/sh\nexec listening 6379\n' > /usr/local/bin/redis-cli \
 && chmod 0755 /usr/local/bin/pg_isready /usr/local/bin/redis-cli
ENTRYPOINT ["/usr/local/bin/standin"]
