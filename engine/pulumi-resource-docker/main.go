// pulumi-resource-docker: the Pulumi resource plugin for the "docker" package, built from
// kreuzwerker/terraform-provider-docker through pulumi-terraform-bridge. See ./build.sh.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"github.com/terraform-providers/terraform-provider-docker/pulumi-fleet-shim/info"
)

// version is what the plugin reports to the engine; set with -ldflags "-X main.version=...".
var version = "dev"

// schema.json is generated at build time by cmd/pulumi-tfgen-docker (see build.sh), not committed.
//
//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main("docker", version, info.Provider(version), schema)
}
