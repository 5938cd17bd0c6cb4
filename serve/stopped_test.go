package serve

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/valyala/fasthttp"
)

// A rolling update whose old replicas are stopped at once, without
// waiting for the ingress (the test stops them itself right after it
// records version 2, as a head that did not wait would), under load at
// an ingress that has not heard of version 2 (it reads the records once
// a minute): each request that meets a stopped replica, running or
// queued, is retried once on the version now recorded, which the
// ingress mounts when asked, and no request fails. The stopped replicas
// are not made again (run with -race: requests, the host's sync and
// the retirement at once).
func TestStoppedReplicaRetriedOnNewVersion(t *testing.T) {
	c := recordingCluster(t, 4)
	port, err := testutil.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(version int, answer string) Record {
		t.Helper()
		return publish(t, c, `
@serve(route="/v", replicas=2)
@concurrency(4)
actor V() {
    method get() {
        time.sleep(0.02)
        return "`+answer+`"
    }
}`, Options{Name: "s", Version: version}, port)
	}
	v1 := deploy(1, "one")
	defer runHosts(t, ingress{c, HostOptions{ID: "n1", Node: true, Port: port, Poll: time.Minute}, &testutil.Buffer{}})()

	client := &fasthttp.Client{}
	url := fmt.Sprintf("http://127.0.0.1:%d/v/get", port)
	testutil.Eventually(t, 10*time.Second, "version 1 served", func() bool {
		status, body, err := client.Post(nil, url, nil)
		return err == nil && status == 200 && string(body) == `"one"`
	})
	var ones, twos atomic.Int64
	load := startLoad(12, func() error {
		status, body, err := client.Post(nil, url, nil)
		switch {
		case err == nil && status == 200 && string(body) == `"one"`:
			ones.Add(1)
		case err == nil && status == 200 && string(body) == `"two"`:
			twos.Add(1)
		default:
			return fmt.Errorf("%d %s %v", status, body, err)
		}
		return nil
	})
	testutil.Eventually(t, 10*time.Second, "version 1 answering under load", func() bool { return ones.Load() >= 50 })
	deploy(2, "two")
	StopReplicas(c, v1, nil) // at once: requests are running and queued on them
	testutil.Eventually(t, 15*time.Second, "version 2 answering, or a request failed", func() bool { return twos.Load() >= 100 || load.failed() > 0 })
	if failures := load.stop(); len(failures) > 0 {
		t.Fatalf("%d requests failed across the update; the first: %s", len(failures), failures[0])
	}
	th := c.NewThread("check")
	for i := 1; i <= 2; i++ {
		if _, err := c.LookupActor(th, Namespace, ReplicaName("s", 1, "/v", i)); err == nil {
			t.Errorf("replica %d of version 1 was made again after it was stopped", i)
		}
	}
}

// An application deleted while an ingress has not heard of it yet (it
// reads the records once a minute): a request that meets its stopped
// replicas answers at once that the application is no longer served,
// and makes no replica of it again.
func TestDeletedApplicationNotMadeAgain(t *testing.T) {
	c := recordingCluster(t, 2)
	port, err := testutil.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, c, `
@serve(route="/d", replicas=1)
actor D() {
    method get() { return "here" }
}`, Options{Name: "del"}, port)
	defer runHosts(t, ingress{c, HostOptions{ID: "n1", Node: true, Port: port, Poll: time.Minute}, &testutil.Buffer{}})()
	client := &fasthttp.Client{}
	url := fmt.Sprintf("http://127.0.0.1:%d/d/get", port)
	testutil.Eventually(t, 10*time.Second, "the application served", func() bool {
		status, _, err := client.Post(nil, url, nil)
		return err == nil && status == 200
	})
	if found, err := Delete(c, "del"); !found || err != nil {
		t.Fatalf("Delete: %v %v", found, err)
	}
	start := time.Now()
	status, body, err := client.Post(nil, url, nil)
	if err != nil || status != 503 || !strings.Contains(string(body), "application del is no longer served") {
		t.Fatalf("a request after the delete answered %d %s %v, want 503: application del is no longer served", status, body, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the answer took %s", took)
	}
	if _, err := c.LookupActor(c.NewThread("check"), Namespace, ReplicaName("del", 1, "/d", 1)); err == nil {
		t.Fatal("the deleted application's replica was made again")
	}
}
