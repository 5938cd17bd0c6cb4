package examples_test

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	rf "github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/internal/testutil"
	"github.com/rayflow/rayflow/stdlib"
)

// testServePolicy runs the example's pipeline, then serves its policy
// with `rayflow serve` and drives it from clients that each step their
// own CartPole, sending every observation to /cartpole/act over HTTP:
// the served policy keeps the pole up for the maximum reward.
func testServePolicy(t *testing.T) {
	r := mustSucceed(t, "examples/serve_policy.rayflow")
	wantLine(t, r.stdout, `^episode 3: reward 500\.0$`)

	port, err := testutil.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rayflowBin, "serve", "examples/serve_policy.rayflow", "--http-port", fmt.Sprint(port))
	cmd.Dir = repoRoot
	stdout, _ := cmd.StdoutPipe()
	stderr := &testutil.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if _, ok := testutil.AwaitReady(stdout, runTimeout); !ok {
		t.Fatalf("rayflow serve printed no ready line; stderr:\n%s", stderr.String())
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/cartpole/act", port)
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Go(func() {
			env, err := stdlib.MakeEnv("CartPole-v1", int64(200+c), 500, nil)
			if err != nil {
				t.Error(err)
				return
			}
			obs, total := env.Reset(), 0.0
			for {
				action, err := act(url, obs)
				if err != nil {
					t.Errorf("client %d after reward %v: %v", c, total, err)
					return
				}
				var reward float64
				var done bool
				if obs, reward, done, err = env.Step(action); err != nil {
					t.Error(err)
					return
				}
				total += reward
				if done {
					break
				}
			}
			if total < 500 {
				t.Errorf("client %d: the served policy reached a reward of %v, want 500", c, total)
			}
		})
	}
	wg.Wait()
}

// act posts one observation to the served policy and returns its action.
func act(url string, obs rf.Value) (int, error) {
	body, err := stdlib.EncodeJSON(obs)
	if err != nil {
		return 0, err
	}
	resp, err := http.Post(url, "application/json", strings.NewReader("["+body+"]"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	var action int
	if _, err := fmt.Sscan(string(answer), &action); resp.StatusCode != 200 || err != nil {
		return 0, fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, answer)
	}
	return action, nil
}
