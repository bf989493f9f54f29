// pulumi-tfgen-docker writes the Pulumi schema of our docker provider mapping:
//
//	pulumi-tfgen-docker schema --out DIR   # writes DIR/schema.json
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"github.com/terraform-providers/terraform-provider-docker/pulumi-fleet-shim/info"
)

// version must match the runtime plugin's (main.version); set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	tfgen.Main("docker", version, info.Provider(version))
}
