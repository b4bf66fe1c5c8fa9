// Package check validates assistbot's deployment files without a cluster
// or a container engine: deploy/compose.yaml is loaded the way
// `docker compose config` loads it, deploy/kubernetes is built with
// kustomize and decoded strictly into the Kubernetes API types, and the
// configuration files both of them mount pass `assistbot config check`
// with the environment each gives assistbot.
//
// It is a module of its own, so that the main module does not depend on
// the compose and Kubernetes libraries. Run it from this directory:
//
//	go test ./...
package check
