// Package info maps kreuzwerker/terraform-provider-docker onto the Pulumi "docker" package, so that
// its tokens and property names match what the pulumi_docker Python SDK (4.x) sends. It is shared by
// the runtime plugin (../main.go) and the schema generator (../cmd/pulumi-tfgen-docker).
package info

import (
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	// Allowed because this module's path is below github.com/terraform-providers/terraform-provider-docker/.
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// Provider returns the bridge mapping for the upstream SDKv2 provider. The upstream repository also
// has a small terraform-plugin-framework provider (docker_compose, two data sources, actions), muxed
// in its own main.go; pulumi-docker 4.x does not expose those, so we bridge only the SDKv2 one, which
// holds every resource we use (docker_container, docker_image, docker_network, docker_volume).
func Provider(version string) tfbridge.ProviderInfo {
	p := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(provider.New(version)()),
		Name:        "docker",
		Version:     version,
		DisplayName: "Docker",
		Description: "A Pulumi package for interacting with Docker in Pulumi programs",
		Keywords:    []string{"docker"},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-docker",
		GitHubOrg:   "kreuzwerker",

		// Provider configuration: same names as pulumi-docker (host, sshOpts, ...); like pulumi-docker,
		// host falls back to $DOCKER_HOST.
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"DOCKER_HOST"}}},
			// The bridge pluralises list names; pulumi-docker keeps this one singular.
			"registry_auth": {Name: "registryAuth"},
		},

		// Tokens and property names where pulumi-docker differs from what the bridge derives.
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {Fields: map[string]*tfbridge.SchemaInfo{
				// Singular, unlike the bridge's default plural list names ("commands", ...).
				"command":           {Name: "command"},
				"networks_advanced": {Name: "networksAdvanced"},
			}},
			"docker_image": {
				Tok: "docker:index/remoteImage:RemoteImage",
				// "name" is the image reference: keep it required (excluded from SetAutonaming below).
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},

		Python: &tfbridge.PythonInfo{
			RespectSchemaVersion: true,
			PyProject:            struct{ Enabled bool }{true},
		},
	}

	// Everything else: docker_foo_bar -> docker:index/fooBar:FooBar, data source -> getFooBar.
	p.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	// As in pulumi-docker, a resource's "name" is optional: if unset, the bridge derives it from the
	// Pulumi resource name plus a random suffix. (The fleet always sets names explicitly.)
	p.SetAutonaming(255, "-")

	// Property descriptions come from the upstream docs/ directory; build.sh points this at the
	// module's copy in the Go module cache. Without it, tfgen only warns and omits descriptions.
	p.UpstreamRepoPath = os.Getenv("DOCKER_UPSTREAM_DIR")
	return p
}
