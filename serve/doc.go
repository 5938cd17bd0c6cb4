// Package serve runs the applications of `rayflow serve` (spec/serving.md):
// every actor of a program declared with @serve becomes a deployment of
// replicas (actors of a rayflow cluster, embedded or reached with
// --address) behind an HTTP ingress (fasthttp) that answers
// `POST /ROUTE/METHOD` with the method's result as JSON.
//
// What it owns: an App owns its deployments, their replicas (the actor
// handles, replaced when one is lost), the batchers of batched methods
// (one goroutine each) and the HTTP server it is given to run. The
// cluster it deploys on is the caller's: the App neither starts nor shuts
// it down.
//
// Threading contract: Deploy runs on one goroutine; after it returns,
// App.Handler is called by the HTTP server from many goroutines at once.
// A deployment's replica list is guarded by its own mutex; each
// replica's count of outstanding requests is atomic; every request runs
// its calls on an exec.Thread of its own, since an exec.Thread is used by
// one goroutine at a time. Close stops the batchers; it is called once,
// after the HTTP server has stopped.
package serve
