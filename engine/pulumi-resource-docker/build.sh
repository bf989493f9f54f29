#!/bin/sh
# Builds the "docker" resource plugin (called by scripts/install-pulumi):
#   build.sh OUT_DIR VERSION
# 1. pulumi-tfgen-docker (the same mapping, info/) writes schema.json beside main.go;
# 2. pulumi-resource-docker embeds that schema.json (generated, never committed).
# The no_compose tag drops upstream's docker_compose (a framework resource not bridged here) and
# its large docker/compose dependency tree.
set -eu
cd "$(dirname "$0")"
out=$1 version=$2
flags="-tags no_compose"
ldflags="-s -w -X main.version=$version"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
go build $flags -ldflags "$ldflags" -o "$tools/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker
# Descriptions come from upstream's docs/ in the module cache. PULUMI_CONVERT=0: do not shell out
# to `pulumi convert` (it needs the terraform converter plugin) for the docs' HCL examples.
DOCKER_UPSTREAM_DIR=$(go list -m -f '{{.Dir}}' github.com/terraform-providers/terraform-provider-docker) \
  PULUMI_CONVERT=0 "$tools/pulumi-tfgen-docker" schema --out "$tools"
mv "$tools/schema.json" schema.json
go build $flags -ldflags "$ldflags" -o "$out/pulumi-resource-docker.partial" .
mv "$out/pulumi-resource-docker.partial" "$out/pulumi-resource-docker"
