// Command parity runs the EPP's own default scheduling code (llm-d-router v0.9.2 packages:
// OpenAI/Anthropic parsers, the estimate token producer, the approximate prefix-cache producer,
// the queue, kv-cache and prefix-cache scorers with the default weights 2/2/3, the max-score
// picker and the utilization saturation detector) over the cases read from stdin, and writes
// one JSON result per case to stdout. The wayroute differential test feeds the same cases to
// plugin.wasm and compares.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	k8stypes "k8s.io/apimachinery/pkg/types"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	fwkdl "github.com/llm-d/llm-d-router/pkg/epp/framework/interface/datalayer"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/interface/flowcontrol"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/interface/plugin"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/interface/requestcontrol"
	fwkrh "github.com/llm-d/llm-d-router/pkg/epp/framework/interface/requesthandling"
	fwksched "github.com/llm-d/llm-d-router/pkg/epp/framework/interface/scheduling"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/flowcontrol/saturationdetector/utilization"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/requestcontrol/dataproducer/approximateprefix"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/requestcontrol/dataproducer/tokenizer"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/requesthandling/parsers/anthropic"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/requesthandling/parsers/openai"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/scheduling/picker/maxscore"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/scheduling/scorer/kvcacheutilization"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/scheduling/scorer/loraaffinity"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/scheduling/scorer/prefix"
	"github.com/llm-d/llm-d-router/pkg/epp/framework/plugins/scheduling/scorer/queuedepth"
	"github.com/llm-d/llm-d-router/pkg/epp/scheduling"
)

// Endpoint is one model server's state in a case.
type Endpoint struct {
	Address string  `json:"address"`
	Waiting int     `json:"waiting"`
	KV      float64 `json:"kv"`
	Stale   bool    `json:"stale"`
	Loras   *Loras  `json:"loras,omitempty"`
}

// Loras is an endpoint's LoRA adapter state (vllm:lora_requests_info).
type Loras struct {
	Running []string `json:"running"`
	Waiting []string `json:"waiting"`
	Max     int      `json:"max"`
}

// Request is one request: path, body, and an optional candidate subset hint.
type Request struct {
	Path   string    `json:"path"`
	Body   string    `json:"body"`
	Subset *[]string `json:"subset,omitempty"`
	// Sheddable: priority < 0.
	Sheddable bool `json:"sheddable"`
	// Endpoint (history only): where this earlier request went.
	Endpoint string `json:"endpoint,omitempty"`
}

// Case is one scheduling decision after some prefix history.
type Case struct {
	ID string `json:"id"`
	// NoQueue names an endpoint whose metrics lack the queue series: the EPP's extractor keeps
	// the previous value, zero for a new endpoint.
	NoQueue   string     `json:"noQueue,omitempty"`
	Model     string     `json:"model"`
	Endpoints []Endpoint `json:"endpoints"`
	History   []Request  `json:"history"`
	Request   Request    `json:"request"`
}

// Scores of one candidate.
type Scores struct {
	Queue  float64 `json:"queue"`
	KV     float64 `json:"kv"`
	Prefix float64 `json:"prefix"`
	Total  float64 `json:"total"`
	// Lora is the lora-affinity scorer's score (not part of the default profile).
	Lora float64 `json:"lora"`
}

// Result is the EPP's decision for one case.
type Result struct {
	ID          string             `json:"id"`
	Error       string             `json:"error,omitempty"`
	Shed        bool               `json:"shed"`
	Saturation  float64            `json:"saturation"`
	Candidates  []string           `json:"candidates"`
	Scores      map[string]Scores  `json:"scores"`
	Top         []string           `json:"top"`
	Pick        string             `json:"pick"`
	PrefixTotal int                `json:"prefixTotal"`
	Matched     map[string]float64 `json:"matched"`
}

const (
	queueWeight  = 2.0
	kvWeight     = 2.0
	prefixWeight = 3.0
)

type epp struct {
	ctx       context.Context
	openai    fwkrh.Parser
	anthropic fwkrh.Parser
	tokens    requestcontrol.DataProducer
	prefix    requestcontrol.DataProducer
	learn     requestcontrol.PreRequest
	queue     fwksched.Scorer
	kv        fwksched.Scorer
	prefixSc  fwksched.Scorer
	lora      fwksched.Scorer
	profile   *scheduling.SchedulerProfile
	detector  flowcontrol.SaturationDetector
	seq       int
}

func must[T any](p plugin.Plugin, err error) T {
	if err != nil {
		panic(err)
	}
	t, ok := p.(T)
	if !ok {
		panic(fmt.Sprintf("plugin %T has not the expected type", p))
	}
	return t
}

func newEPP() *epp {
	ctx := ctrllog.IntoContext(context.Background(), logr.Discard())
	handle := plugin.NewEppHandle(ctx, nil, plugin.WithMetricsRecorder(prometheus.NewRegistry()))
	e := &epp{ctx: ctx}
	e.openai = openai.NewOpenAIParser()
	e.anthropic = anthropic.NewAnthropicParser()
	e.tokens = must[requestcontrol.DataProducer](tokenizer.PluginFactory(tokenizer.PluginType, nil, handle))
	producer, err := approximateprefix.ApproxPrefixCacheFactory(approximateprefix.ApproxPrefixCachePluginType, nil, handle)
	e.prefix = must[requestcontrol.DataProducer](producer, err)
	e.learn = must[requestcontrol.PreRequest](producer, err)
	e.queue = must[fwksched.Scorer](queuedepth.QueueScorerFactory(queuedepth.QueueScorerType, nil, handle))
	e.kv = must[fwksched.Scorer](kvcacheutilization.KvCacheUtilizationScorerFactory(kvcacheutilization.KvCacheUtilizationScorerType, nil, handle))
	e.prefixSc = must[fwksched.Scorer](prefix.PrefixCachePluginFactory(prefix.PrefixCacheScorerPluginType, nil, handle))
	e.lora = must[fwksched.Scorer](loraaffinity.LoraAffinityScorerFactory(loraaffinity.LoraAffinityScorerType, nil, handle))
	e.profile = scheduling.NewSchedulerProfile().
		WithScorers(
			scheduling.NewWeightedScorer(e.queue, queueWeight),
			scheduling.NewWeightedScorer(e.kv, kvWeight),
			scheduling.NewWeightedScorer(e.prefixSc, prefixWeight),
		).
		WithPicker(must[fwksched.Picker](maxscore.MaxScorePickerFactory(maxscore.MaxScorePickerType, nil, handle)))
	e.detector = must[flowcontrol.SaturationDetector](utilization.UtilizationDetectorFactory(utilization.UtilizationDetectorType, nil, handle))
	return e
}

func endpoints(c *Case, now time.Time) []fwksched.Endpoint {
	out := make([]fwksched.Endpoint, 0, len(c.Endpoints))
	for _, ep := range c.Endpoints {
		host, port, _ := strings.Cut(ep.Address, ":")
		m := fwkdl.NewMetrics()
		m.WaitingQueueSize = ep.Waiting
		m.KVCacheUsagePercent = ep.KV
		m.UpdateTime = now
		if ep.Stale {
			m.UpdateTime = now.Add(-10 * time.Second)
		}
		if ep.Loras != nil {
			for _, a := range ep.Loras.Running {
				m.ActiveModels[a] = 0
			}
			for _, a := range ep.Loras.Waiting {
				m.WaitingModels[a] = 0
			}
			m.MaxActiveModels = ep.Loras.Max
		}
		meta := &fwkdl.EndpointMetadata{
			NamespacedName: k8stypes.NamespacedName{Namespace: "parity", Name: ep.Address},
			PodName:        ep.Address,
			Address:        host,
			Port:           port,
		}
		out = append(out, fwksched.NewEndpoint(meta, m, nil))
	}
	return out
}

// locate is the EPP's candidate subset (requestcontrol/candidates.go): by IP, port ignored.
func locate(all []fwksched.Endpoint, subset *[]string) []fwksched.Endpoint {
	if subset == nil {
		return all
	}
	ips := map[string]bool{}
	for _, s := range *subset {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			ips[s[:i]] = true
		} else {
			ips[s] = true
		}
	}
	var out []fwksched.Endpoint
	for _, ep := range all {
		if ips[ep.GetMetadata().GetIPAddress()] {
			out = append(out, ep)
		}
	}
	return out
}

func (e *epp) request(model string, r *Request) (*fwksched.InferenceRequest, error) {
	headers := map[string]string{":path": r.Path, "content-type": "application/json"}
	parser := e.openai
	if strings.HasSuffix(r.Path, "/v1/messages") {
		parser = e.anthropic
	}
	parsed, err := parser.ParseRequest(e.ctx, []byte(r.Body), headers)
	if err != nil {
		return nil, err
	}
	// The director's target model: the body's "model" (requestcontrol/director.go mutateModel).
	if m, ok := parsed.Body.Payload.(fwkrh.PayloadMap); ok {
		if name, _ := m["model"].(string); name != "" {
			model = name
		} else {
			return nil, fmt.Errorf("model not found in request body")
		}
	}
	e.seq++
	req := &fwksched.InferenceRequest{
		RequestID:   fmt.Sprintf("r%d", e.seq),
		TargetModel: model,
		Body:        parsed.Body,
		Headers:     headers,
	}
	return req, nil
}

func (e *epp) produce(req *fwksched.InferenceRequest, eps []fwksched.Endpoint) error {
	if err := e.tokens.Produce(e.ctx, req, eps); err != nil {
		return err
	}
	return e.prefix.Produce(e.ctx, req, eps)
}

func matchInfo(ep fwksched.Endpoint) (int, int) {
	for _, k := range ep.Keys() {
		if !strings.Contains(k, approximateprefix.ApproxPrefixCachePluginType) {
			continue
		}
		v, ok := ep.Get(k)
		if !ok {
			continue
		}
		type info interface {
			MatchBlocks() int
			TotalBlocks() int
		}
		if mi, ok := v.(info); ok {
			return mi.MatchBlocks(), mi.TotalBlocks()
		}
	}
	return 0, 0
}

// learnOne records `req` as served by `target` and waits until the (asynchronous) index update
// is visible.
func (e *epp) learnOne(req *fwksched.InferenceRequest, target fwksched.Endpoint, eps []fwksched.Endpoint) error {
	if err := e.produce(req, []fwksched.Endpoint{target}); err != nil {
		return err
	}
	_, total := matchInfo(target)
	e.learn.PreRequest(e.ctx, req, &fwksched.SchedulingResult{
		PrimaryProfileName: "default",
		ProfileResults:     map[string]*fwksched.ProfileRunResult{"default": {TargetEndpoints: []fwksched.Endpoint{target}}},
	})
	if total == 0 {
		return nil
	}
	// Poll with a fresh probe request until the target holds every block.
	for i := 0; i < 10000; i++ {
		probe := *req
		e.seq++
		probe.RequestID = fmt.Sprintf("probe%d", e.seq)
		if err := e.prefix.Produce(e.ctx, &probe, []fwksched.Endpoint{target}); err != nil {
			return err
		}
		if m, _ := matchInfo(target); m >= total {
			return nil
		}
		time.Sleep(50 * time.Microsecond)
	}
	return fmt.Errorf("prefix index update not visible")
}

func round(x float64) float64 { return math.Round(x*1e9) / 1e9 }

func (e *epp) run(c *Case) Result {
	res := Result{ID: c.ID, Scores: map[string]Scores{}, Matched: map[string]float64{}}
	now := time.Now()
	if c.NoQueue != "" {
		for i := range c.Endpoints {
			if c.Endpoints[i].Address == c.NoQueue {
				c.Endpoints[i].Waiting = 0
			}
		}
	}
	all := endpoints(c, now)
	byAddr := map[string]fwksched.Endpoint{}
	for _, ep := range all {
		byAddr[ep.GetMetadata().PodName] = ep
	}
	for i := range c.History {
		h := &c.History[i]
		req, err := e.request(c.Model, h)
		if err != nil {
			res.Error = "history: " + err.Error()
			return res
		}
		if err := e.learnOne(req, byAddr[h.Endpoint], all); err != nil {
			res.Error = "history: " + err.Error()
			return res
		}
	}
	// Fresh endpoint objects for the decision (history attached match info to the old ones).
	all = endpoints(c, now)
	cands := locate(all, c.Request.Subset)
	for _, ep := range cands {
		res.Candidates = append(res.Candidates, ep.GetMetadata().PodName)
	}
	dl := make([]fwkdl.Endpoint, len(cands))
	for i, ep := range cands {
		dl[i] = fwkdl.NewEndpoint(ep.GetMetadata(), ep.GetMetrics())
	}
	res.Saturation = round(e.detector.Saturation(e.ctx, dl))
	if c.Request.Sheddable && res.Saturation >= 1.0 {
		res.Shed = true
		return res
	}
	if len(cands) == 0 {
		res.Error = "no candidates"
		return res
	}
	req, err := e.request(c.Model, &c.Request)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if err := e.produce(req, cands); err != nil {
		res.Error = err.Error()
		return res
	}
	q := e.queue.Score(e.ctx, req, cands)
	kv := e.kv.Score(e.ctx, req, cands)
	px := e.prefixSc.Score(e.ctx, req, cands)
	lo := e.lora.Score(e.ctx, req, cands)
	best := math.Inf(-1)
	for _, ep := range cands {
		name := ep.GetMetadata().PodName
		s := Scores{Queue: round(clamp(q[ep])), KV: round(clamp(kv[ep])), Prefix: round(clamp(px[ep])), Lora: round(clamp(lo[ep]))}
		s.Total = round(queueWeight*clamp(q[ep]) + kvWeight*clamp(kv[ep]) + prefixWeight*clamp(px[ep]))
		res.Scores[name] = s
		m, total := matchInfo(ep)
		res.Matched[name] = float64(m)
		res.PrefixTotal = total
		if s.Total > best {
			best = s.Total
		}
	}
	for name, s := range res.Scores {
		if s.Total >= best-1e-9 {
			res.Top = append(res.Top, name)
		}
	}
	sort.Strings(res.Top)
	run, err := e.profile.Run(e.ctx, req, cands)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if len(run.TargetEndpoints) > 0 {
		res.Pick = run.TargetEndpoints[0].GetMetadata().PodName
	}
	return res
}

func clamp(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

func main() {
	var cases []Case
	if err := json.NewDecoder(bufio.NewReader(os.Stdin)).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "parity: reading cases:", err)
		os.Exit(2)
	}
	e := newEPP()
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	for i := range cases {
		if err := enc.Encode(e.run(&cases[i])); err != nil {
			fmt.Fprintln(os.Stderr, "parity:", err)
			os.Exit(2)
		}
	}
	if err := w.Flush(); err != nil {
		os.Exit(2)
	}
}
