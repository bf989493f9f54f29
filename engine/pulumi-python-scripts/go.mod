// No Go code: pins the sdk/v3 module whose Python scripts scripts/install-pulumi installs beside
// the language host (pulumi-language-python-exec, pulumi-resource-pulumi-python). Its version is
// the Python SDK's (requirements.txt), so the scripts match the `pulumi` package they run.
module github.com/sandbox-fleet/engine/pulumi-python-scripts

go 1.26

require github.com/pulumi/pulumi/sdk/v3 v3.272.0
