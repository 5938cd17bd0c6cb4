// Package serve runs the applications of `rayflow serve` (spec/serving.md):
// every actor of a program declared with @serve becomes a deployment of
// replicas (detached named actors of a rayflow cluster, embedded or
// reached with --address) behind an HTTP ingress (fasthttp) that answers
// `POST /ROUTE/METHOD` with the method's result as JSON.
//
// Files: app.go (App, Deploy, replicas, load balancing, retry and
// renewal of a lost replica), http.go (Mux: the routes of the mounted
// applications on one port, the HTTP contract and its errors), batch.go
// (@serve(max_batch=)), scale.go (autoscaling), record.go (an
// application's record in the GCS: Publish, Records, Delete, Status) and
// host.go (RunHost: what a head, or a node holding a replica, runs to
// serve the recorded applications on their ports, and to roll one over
// to its next version) and ingress.go (each ingress's report of the
// versions it routes and where, which a head waits on before it stops
// an old version, and `serve status` lists).
//
// Ownership: an App owns its deployments, their replicas (the actor
// handles, looked up or made again as needed), and the goroutines of its
// batchers and scalers, which Close stops. A Mux owns its table of
// applications, not the applications. The cluster an App lives on is
// the caller's: the App neither starts nor shuts it down. RunHost's
// goroutine owns its table of mounted applications and its listeners;
// the retirement of an older version runs on a goroutine of its own that
// RunHost waits for before it returns. A request whose replica is gone
// asks that goroutine to read the records again and waits for it
// (Mux.refresh, a syncSignal) before it retries on the version served
// then. A head starts an application's scalers once it serves it; its
// goroutine says at each sync whether they scale (App.follows: one head
// per application does) and sets each deployment's count of the other
// ingresses' requests in flight (deployment.remote), and the replica
// lists of an App that does not scale follow its record (followScale,
// under the deployment's mutex).
//
// Threading contract: Deploy and newApp run on one goroutine; after
// start, Mux.Handler calls into the App from many goroutines at once. A
// deployment's replica list is guarded by its mutex (the scaler adds and
// removes replicas); a replica's actor handle by the replica's mutex; the
// counts of outstanding and in-flight requests are atomic. Every request
// runs its calls on an exec.Thread of its own, since an exec.Thread is
// used by one goroutine at a time. Close is called once, after the
// application is off every Mux (a request still running on it fails or
// finishes; it makes no replica again).
package serve
