package httpapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rayflow/rayflow/nodeagent"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/taskevents"
	"github.com/valyala/fasthttp"
)

// The state API (spec/state.md): what the cluster's tasks, actors,
// objects, nodes and jobs are doing, read-only. Tasks, actors and
// timelines come from the task events the head keeps
// (nodeagent/taskevents), asked over the cluster protocol like the
// status (nodeagent.FetchState); nodes from the status; jobs from this
// Server's jobs table (jobInfos).

// Bounds of GET /api/v0/tasks?limit=N.
const (
	defaultStateLimit = 1000
	maxStateLimit     = 10_000
)

// stateWait bounds a state question to the head.
const stateWait = 10 * time.Second

// StateNode is one node as GET /api/v0/nodes lists it.
type StateNode struct {
	NodeID             string             `json:"node_id"`
	Address            string             `json:"address"`
	State              string             `json:"state"` // ALIVE or DEAD
	IsHead             bool               `json:"is_head"`
	ResourcesTotal     map[string]float64 `json:"resources_total"`
	ResourcesAvailable map[string]float64 `json:"resources_available"`
	HeartbeatAgeS      float64            `json:"heartbeat_age_s"`
}

// stateRoute serves /api/v0/...; false when the path is none of its.
func (s *Server) stateRoute(ctx *fasthttp.RequestCtx) bool {
	path := string(ctx.Path())
	if !strings.HasPrefix(path, "/api/v0/") {
		return false
	}
	if !onlyMethod(ctx, "GET") {
		return true
	}
	args := ctx.QueryArgs()
	job := string(args.Peek("job"))
	state := strings.ToUpper(string(args.Peek("state")))
	switch strings.TrimPrefix(path, "/api/v0/") {
	case "tasks":
		limit, ok := stateLimit(ctx)
		if ok && validState(ctx, state, taskevents.TaskStates) {
			s.askState(ctx, "tasks", job, state, limit)
		}
	case "tasks/summary":
		s.askState(ctx, "summary", job, "", 0)
	case "actors":
		if validState(ctx, state, taskevents.ActorStates) {
			s.askState(ctx, "actors", job, state, 0)
		}
	case "objects":
		s.askState(ctx, "objects", job, "", 0)
	case "timeline":
		if job == "" {
			badBody(ctx, "the query parameter \"job\" is required: the job whose timeline to give")
			return true
		}
		s.askState(ctx, "timeline", job, "", 0)
	case "nodes":
		s.stateNodes(ctx)
	case "jobs":
		if list, err := s.jobInfos(); err != nil {
			tableError(ctx, err)
		} else {
			writeJSON(ctx, fasthttp.StatusOK, map[string]any{"result": list})
		}
	default:
		writeJSON(ctx, fasthttp.StatusNotFound, map[string]string{"error": "not found; the state API has /api/v0/tasks, /api/v0/tasks/summary, /api/v0/actors, /api/v0/objects, /api/v0/nodes, /api/v0/jobs and /api/v0/timeline"})
	}
	return true
}

// stateLimit reads ?limit=N: default defaultStateLimit, at most
// maxStateLimit; a bad one is answered 400.
func stateLimit(ctx *fasthttp.RequestCtx) (int, bool) {
	text := string(ctx.QueryArgs().Peek("limit"))
	if text == "" {
		return defaultStateLimit, true
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > maxStateLimit {
		badBody(ctx, "the query parameter \"limit\" must be a whole number from 1 to %d, not %q", maxStateLimit, text)
		return 0, false
	}
	return n, true
}

// validState accepts "" or one of valid; otherwise it answers 400 naming
// them.
func validState(ctx *fasthttp.RequestCtx, state string, valid []string) bool {
	if state == "" || slices.Contains(valid, state) {
		return true
	}
	badBody(ctx, "the query parameter \"state\" must be one of %s, not %q", strings.Join(valid, ", "), state)
	return false
}

// askState asks the head a state question and passes its JSON answer on.
func (s *Server) askState(ctx *fasthttp.RequestCtx, what, job, state string, limit int) {
	c, cancel := context.WithTimeout(context.Background(), stateWait)
	defer cancel()
	data, err := nodeagent.FetchState(c, s.cluster, s.token, s.tls, what, job, state, limit)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadGateway, map[string]string{"error": fmt.Sprintf("the head did not answer: %v", err)})
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBody(data)
}

// stateNodes lists the nodes from the cluster's status.
func (s *Server) stateNodes(ctx *fasthttp.RequestCtx) {
	c, cancel := context.WithTimeout(context.Background(), stateWait)
	defer cancel()
	st, err := head.FetchStatus(c, s.cluster, s.token, s.tls)
	if err != nil {
		writeJSON(ctx, fasthttp.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"result": stateNodesOf(st, time.Now())})
}

func stateNodesOf(st *head.Status, now time.Time) []StateNode {
	out := []StateNode{}
	for _, n := range st.Nodes {
		age := 0.0
		if at, err := time.Parse(time.RFC3339Nano, n.LastHeartbeat); err == nil {
			age = max(0, now.Sub(at).Seconds())
		}
		out = append(out, StateNode{NodeID: n.ID, Address: n.Address, State: strings.ToUpper(n.State), IsHead: n.IsHead,
			ResourcesTotal: n.ResourcesTotal, ResourcesAvailable: n.ResourcesAvailable, HeartbeatAgeS: age})
	}
	return out
}
