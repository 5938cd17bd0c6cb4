package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/nodeagent/placement"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
)

// A member of the cluster (it holds the token) speaks only for itself: a
// bare protocol client that proved the token as node "probe" cannot make
// another node leave, cannot keep a killed node alive with heartbeats in
// its name, and is not made a head by saying it is one (it holds no GCS
// replica).
func TestMemberSpeaksOnlyForItself(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	bin := buildCLI(t)
	hp, wp := freePortRange(t, 5), freePort(t)
	head := fmt.Sprintf("127.0.0.1:%d", hp)
	tokenFile := writeTokenFile(t, "members-token")
	startHead(t, bin, "--port", fmt.Sprint(hp), "--cpus", "1", "--token-file", tokenFile)
	worker := startWorker(t, bin, head, "w1", wp, "--cpus", "1", "--token-file", tokenFile)
	waitState(t, bin, head, "w1", "alive", 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe, err := transport.Dial(ctx, head, transport.Options{NodeID: "probe", Token: []byte("members-token")})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	gcs := func(op byte, body []byte) ([]byte, error) {
		msg, err := probe.Call(ctx, transport.GCSRequest, append([]byte{op}, body...))
		if err != nil {
			return nil, err
		}
		return msg.Payload, nil
	}
	epoch := nodeEpoch(t, gcs, "w1")

	// Leave in w1's name, with w1's epoch: refused, w1 stays alive.
	if _, err := gcs(wire.GCSLeave, wire.EncodeStrings("w1", strconv.FormatUint(epoch, 10))); err == nil || !strings.Contains(err.Error(), "only for itself") {
		t.Fatalf("a leave for another node: %v", err)
	}
	if s := states(status(t, bin, head))["w1"]; s != "alive" {
		t.Fatalf("w1 is %q after another member's leave in its name", s)
	}

	// "I am a head": registered as a plain node, not listed among the heads.
	if _, err := gcs(wire.GCSRegister, wire.EncodeRegister("probe", "127.0.0.1:9", map[string]float64{"cpu": 1}, true)); err != nil {
		t.Fatalf("the probe registering itself: %v", err)
	}
	heads, err := gcs(wire.GCSHeads, nil)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := wire.DecodeStrings(heads); len(list) != 1 || list[0] != head {
		t.Fatalf("heads after a plain node said it was one: %v", list)
	}

	// Kill w1 and heartbeat in its name: refused, and w1 is dead in time.
	worker.cmd.Process.Signal(syscall.SIGKILL)
	worker.cmd.Wait()
	hb := wire.EncodeHeartbeat("w1", epoch, placement.NodeState{}, 0)
	if _, err := probe.Call(ctx, transport.Heartbeat, hb); err == nil || !strings.Contains(err.Error(), "only for itself") {
		t.Fatalf("a heartbeat for another node: %v", err)
	}
	testutil.Eventually(t, deadWithin(testDeadAfter), "w1 dead while another member heartbeats for it", func() bool {
		probe.Call(ctx, transport.Heartbeat, hb)
		return states(status(t, bin, head))["w1"] == "dead"
	})
}

// nodeEpoch reads node id's epoch at the head from its node states.
func nodeEpoch(t *testing.T, gcs func(byte, []byte) ([]byte, error), id string) uint64 {
	t.Helper()
	reply, err := gcs(wire.GCSNodeStates, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := wire.DecodeStrings(reply)
	for i := 0; i+3 < len(ss); i += 4 {
		if ss[i] == id {
			e, _ := strconv.ParseUint(ss[i+3], 10, 64)
			return e
		}
	}
	t.Fatalf("node %s not in %v", id, ss)
	return 0
}
