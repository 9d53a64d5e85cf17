// Package deploy holds CES's deployment descriptions: the Helm chart in
// helm/ces, and the test that renders it with Helm and decodes every
// object strictly into the Kubernetes API types. It is a module of its
// own so that Helm and the Kubernetes types stay out of the service's
// go.mod.
package deploy
