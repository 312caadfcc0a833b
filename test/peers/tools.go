//go:build tools

// Package peers pins the Go peer programs the real-stack benchmark runs. Nothing here is built
// into wayroute; `npm run setup:peers` builds the programs from this module's go.sum.
package peers

// The Endpoint Picker (EPP) of llm-d, the reference scheduler of the Gateway API Inference
// Extension. Its repository was renamed from llm-d-inference-scheduler to llm-d-router and its
// go.mod declares the new name, so the release is required under that name and replaced by the
// published module of the old name (same code, same version).
import _ "github.com/llm-d/llm-d-router/cmd/epp"
