# The API of the fleet's own Daytona server, for tests on machines that reach no container
# registry: tests/support/fake_daytona.py (Daytona's REST API as its published clients model it)
# packaged as an image. Built with tests/support as the context.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# PEM text of extra CAs to trust for PyPI (TLS-inspecting egress proxies), as images/model-server.
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then \
        printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/extra-ca.crt \
        && update-ca-certificates; \
    fi
ARG DAYTONA_API_CLIENT
ARG DAYTONA_TOOLBOX_API_CLIENT
RUN PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip3 install --no-cache-dir \
      --break-system-packages --disable-pip-version-check \
      "daytona-api-client==${DAYTONA_API_CLIENT}" \
      "daytona-toolbox-api-client==${DAYTONA_TOOLBOX_API_CLIENT}"
COPY fake_daytona.py /opt/fake/fake_daytona.py
ENTRYPOINT ["python3", "/opt/fake/fake_daytona.py"]
