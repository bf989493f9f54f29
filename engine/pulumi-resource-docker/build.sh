#!/bin/sh
# Builds the Pulumi "docker" resource plugin into ${OUT:-/tmp/engine-bin}:
#   1. pulumi-tfgen-docker (same provider mapping) writes schema.json;
#   2. pulumi-resource-docker embeds that schema.json.
# The no_compose tag drops upstream's docker_compose (a framework resource we do not bridge) and its
# large docker/compose dependency tree.
set -eu
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/engine-bin}
VERSION=${VERSION:-4.11.0}
export GOFLAGS="${GOFLAGS:--mod=mod}"
FLAGS="-tags no_compose -trimpath"
LDFLAGS="-s -w -X main.version=$VERSION"
mkdir -p "$OUT"
go build $FLAGS -ldflags "$LDFLAGS" -o "$OUT/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker
# Descriptions come from upstream's docs/ (in the module cache). PULUMI_CONVERT=0: do not shell out to
# `pulumi convert` (needs the terraform converter plugin) for the docs' HCL examples.
DOCKER_UPSTREAM_DIR=$(go list -m -f '{{.Dir}}' github.com/terraform-providers/terraform-provider-docker) \
	PULUMI_CONVERT=0 "$OUT/pulumi-tfgen-docker" schema --out .
rm -f Pulumi.yaml # tfgen's by-product, unused
go build $FLAGS -ldflags "$LDFLAGS" -o "$OUT/pulumi-resource-docker" .
