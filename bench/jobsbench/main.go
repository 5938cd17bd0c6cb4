// Command jobsbench measures the Jobs API of a running head (issue 13's
// speed section): how long a submitted job takes to run its first task,
// and how 100 concurrent jobs of 100 tasks each compare with the same
// work as one job. bench/jobs.sh starts a head and two nodes and runs it.
//
//	RAYFLOW_TOKEN=... go run ./bench/jobsbench -address http://127.0.0.1:8265
//
// It prints one JSON line per figure, like the other benchmarks.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// firstTask prints how long after the client's submission (t0, Unix
// seconds) its first task ran.
const firstTask = `
task first() { return time.now() }
pipeline main(t0: float) { print(get(first()) - t0) }
`

// work runs n small tasks and prints their sum.
const work = `
task work(i: int) -> int {
    let s = 0
    for k in range(100) { s += k * i }
    return s
}
pipeline main(n: int = 100) { print(sum(get([work(i) for i in range(n)]))) }
`

type client struct {
	base  string
	token string
	http  *http.Client
}

func (c *client) do(method, path string, body any, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

type jobInfo struct {
	JobID  string `json:"job_id"`
	Status string `json:"status"`
}

func (c *client) submit(source string, params map[string]any) (string, error) {
	var resp jobInfo
	err := c.do("POST", "/api/jobs/", map[string]any{"source": source, "params": params}, &resp)
	return resp.JobID, err
}

// wait polls a job until it ends; an error unless it SUCCEEDED.
func (c *client) wait(id string) error {
	for {
		var info jobInfo
		if err := c.do("GET", "/api/jobs/"+id, nil, &info); err != nil {
			return err
		}
		switch info.Status {
		case "SUCCEEDED":
			return nil
		case "FAILED", "STOPPED":
			var logs struct{ Logs string }
			c.do("GET", "/api/jobs/"+id+"/logs", nil, &logs)
			return fmt.Errorf("job %s %s: %s", id, info.Status, logs.Logs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (c *client) logs(id string) (string, error) {
	var logs struct {
		Logs string `json:"logs"`
	}
	err := c.do("GET", "/api/jobs/"+id+"/logs", nil, &logs)
	return logs.Logs, err
}

// firstTaskLatency submits runs jobs one after the other and returns,
// for each, the seconds from submission to its first task running.
func firstTaskLatency(c *client, runs int) ([]float64, error) {
	var out []float64
	for i := 0; i < runs; i++ {
		t0 := float64(time.Now().UnixNano()) / 1e9
		id, err := c.submit(firstTask, map[string]any{"t0": strconv.FormatFloat(t0, 'f', 6, 64)})
		if err != nil {
			return nil, err
		}
		if err := c.wait(id); err != nil {
			return nil, err
		}
		text, err := c.logs(id)
		if err != nil {
			return nil, err
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, fmt.Errorf("job %s printed %q, not seconds", id, text)
		}
		out = append(out, secs)
		c.do("DELETE", "/api/jobs/"+id, nil, nil)
	}
	return out, nil
}

// concurrentJobs runs jobs jobs of tasks tasks each at once and returns
// the seconds from the first submission to the last job's end.
func concurrentJobs(c *client, jobs, tasks int) (float64, error) {
	start := time.Now()
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := c.submit(work, map[string]any{"n": tasks})
			if err == nil {
				err = c.wait(id)
				c.do("DELETE", "/api/jobs/"+id, nil, nil)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return time.Since(start).Seconds(), errors.Join(all...)
}

func oneJob(c *client, tasks int) (float64, error) {
	start := time.Now()
	id, err := c.submit(work, map[string]any{"n": tasks})
	if err != nil {
		return 0, err
	}
	err = c.wait(id)
	c.do("DELETE", "/api/jobs/"+id, nil, nil)
	return time.Since(start).Seconds(), err
}

func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

func emit(bench string, value float64, unit string) {
	fmt.Printf("{\"bench\": %q, \"value\": %.6g, \"unit\": %q}\n", bench, value, unit)
}

func main() {
	address := flag.String("address", "http://127.0.0.1:8265", "the head's HTTP API")
	runs := flag.Int("runs", 30, "jobs for the submission-to-first-task figure")
	jobs := flag.Int("jobs", 100, "concurrent jobs")
	tasks := flag.Int("tasks", 100, "tasks per concurrent job")
	rounds := flag.Int("rounds", 3, "rounds of concurrent-against-one (medians)")
	flag.Parse()
	token := strings.TrimSpace(os.Getenv("RAYFLOW_TOKEN"))
	if token == "" {
		fmt.Fprintln(os.Stderr, "jobsbench: set RAYFLOW_TOKEN to the cluster's token")
		os.Exit(2)
	}
	c := &client{base: strings.TrimRight(*address, "/"), token: token,
		http: &http.Client{Transport: &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32}}}
	if err := run(c, *runs, *jobs, *tasks, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "jobsbench:", err)
		os.Exit(1)
	}
}

func run(c *client, runs, jobs, tasks, rounds int) error {
	if _, err := firstTaskLatency(c, 3); err != nil { // warm-up
		return err
	}
	lat, err := firstTaskLatency(c, runs)
	if err != nil {
		return err
	}
	emit("job_submit_to_first_task_p50", percentile(lat, 0.5)*1e3, "ms")
	emit("job_submit_to_first_task_p99", percentile(lat, 0.99)*1e3, "ms")
	var many, one []float64
	for r := 0; r < rounds; r++ {
		m, err := concurrentJobs(c, jobs, tasks)
		if err != nil {
			return err
		}
		o, err := oneJob(c, jobs*tasks)
		if err != nil {
			return err
		}
		many, one = append(many, m), append(one, o)
	}
	emit(fmt.Sprintf("jobs_%dx%d_tasks_concurrent", jobs, tasks), percentile(many, 0.5), "s")
	emit(fmt.Sprintf("jobs_one_of_%d_tasks", jobs*tasks), percentile(one, 0.5), "s")
	emit("jobs_concurrent_over_one", percentile(many, 0.5)/percentile(one, 0.5), "ratio")
	return nil
}
