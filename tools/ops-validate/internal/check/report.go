// Package check validates Mandate's deployment files (kustomize overlays, compose file,
// Dockerfile) without a cluster or a Docker engine.
package check

import (
	"fmt"
	"io"
	"strings"
)

// Report prints one line per check and counts passes and failures.
type Report struct {
	w              io.Writer
	Passed, Failed int
}

// NewReport writes check lines to w.
func NewReport(w io.Writer) *Report { return &Report{w: w} }

// Section prints a heading for the checks that follow.
func (r *Report) Section(title string) { fmt.Fprintf(r.w, "\n== %s\n", title) }

// Note prints an informational line that is not a check.
func (r *Report) Note(format string, args ...any) {
	fmt.Fprintf(r.w, "   note  %s\n", fmt.Sprintf(format, args...))
}

// Check records one check: it passes when problems is empty.
func (r *Report) Check(name string, problems []string) {
	if len(problems) == 0 {
		r.Passed++
		fmt.Fprintf(r.w, "   ok    %s\n", name)
		return
	}
	r.Failed++
	fmt.Fprintf(r.w, "   FAIL  %s\n", name)
	for _, p := range problems {
		fmt.Fprintf(r.w, "           - %s\n", strings.ReplaceAll(p, "\n", "\n             "))
	}
}

// CheckErr records a check that fails with err.
func (r *Report) CheckErr(name string, err error) {
	if err != nil {
		r.Check(name, []string{err.Error()})
		return
	}
	r.Check(name, nil)
}

// Summary is the closing line: "N passed, M failed".
func (r *Report) Summary() string { return fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed) }
