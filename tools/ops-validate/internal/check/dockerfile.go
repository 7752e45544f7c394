package check

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Dockerfile is a parsed Dockerfile: its stages as BuildKit's frontend sees them.
type Dockerfile struct {
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	// Problems found while parsing: parser warnings and BuildKit lint rules (`docker build --check`).
	Lint []string
}

// ParseDockerfile parses src with BuildKit's own parser and instruction decoder, collecting
// parser warnings and lint-rule violations.
func ParseDockerfile(src []byte) (*Dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	d := &Dockerfile{}
	for _, w := range res.Warnings {
		d.Lint = append(d.Lint, fmt.Sprintf("parser: %s", w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		d.Lint = append(d.Lint, fmt.Sprintf("line %d: %s: %s", line, rule, msg))
	}})
	d.Stages, d.MetaArgs, err = instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// metaArg is the default of a global ARG, used to resolve FROM ${ARG}.
func (d *Dockerfile) metaArg(name string) string {
	for _, a := range d.MetaArgs {
		for _, kv := range a.Args {
			if kv.Key == name && kv.Value != nil {
				return *kv.Value
			}
		}
	}
	return ""
}

func (d *Dockerfile) baseImage(s instructions.Stage) string {
	return os.Expand(s.BaseName, d.metaArg)
}

// DockerfileRules are what Mandate's image must satisfy.
type DockerfileRules struct {
	BaseImage  string   // every FROM that is not a stage resolves to this
	Entrypoint []string // exec form
	Cmd        []string // exec form
}

// MandateDockerfileRules is the contract of deploy/Dockerfile.
var MandateDockerfileRules = DockerfileRules{
	BaseImage:  "node:20-bookworm-slim",
	Entrypoint: []string{"node", "tools/run.js"},
	Cmd:        []string{"apps/mandate/src/main.js", "start"},
}

// ValidateDockerfile checks the stages: keys "stages", "runtime stage", "build", "context".
func ValidateDockerfile(d *Dockerfile, rules DockerfileRules) Findings {
	f := Findings{"lint": nil, "stages": nil, "runtime stage": nil, "build": nil}
	for _, l := range d.Lint {
		f.add("lint", "%s", l)
	}
	if len(d.Stages) < 2 {
		f.add("stages", "want a multi-stage build, got %d stage(s)", len(d.Stages))
		return f
	}
	names := map[string]bool{}
	for _, s := range d.Stages {
		if s.Name != "" {
			names[s.Name] = true
		}
		if names[s.BaseName] {
			continue
		}
		img := d.baseImage(s)
		if img != rules.BaseImage {
			f.add("stages", "stage %q is FROM %q, want %q", s.Name, img, rules.BaseImage)
		}
		if msg := imageProblem(img); msg != "" {
			f.add("stages", "stage %q: %s", s.Name, msg)
		}
	}

	// build: some stage runs `npm ci` and `npm run build`; some stage installs prod deps only.
	var runs []string
	for _, s := range d.Stages {
		for _, c := range s.Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				runs = append(runs, strings.Join(r.CmdLine, " "))
			}
		}
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{"npm ci", "npm run build", "npm ci --omit=dev"} {
		if !strings.Contains(all, want) {
			f.add("build", "no RUN does %q", want)
		}
	}

	// runtime: the last stage.
	rt := d.Stages[len(d.Stages)-1]
	var user string
	var env = map[string]string{}
	var entrypoint, cmd *instructions.ShellDependantCmdLine
	health := false
	for _, c := range rt.Commands {
		switch x := c.(type) {
		case *instructions.UserCommand:
			user = x.User
		case *instructions.EnvCommand:
			for _, kv := range x.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.EntrypointCommand:
			entrypoint = &x.ShellDependantCmdLine
		case *instructions.CmdCommand:
			cmd = &x.ShellDependantCmdLine
		case *instructions.HealthCheckCommand:
			health = x.Health != nil && len(x.Health.Test) > 0 && x.Health.Test[0] != "NONE"
		case *instructions.RunCommand:
			if strings.Contains(strings.Join(x.CmdLine, " "), "npm ci") && !strings.Contains(strings.Join(x.CmdLine, " "), "--omit=dev") {
				f.add("runtime stage", "installs dev dependencies: %v", x.CmdLine)
			}
		case *instructions.CopyCommand:
			if x.From != "" && !names[x.From] {
				f.add("runtime stage", "COPY --from=%s is not a stage of this file", x.From)
			}
		}
	}
	uid := strings.SplitN(user, ":", 2)[0]
	switch n, err := strconv.Atoi(uid); {
	case user == "":
		f.add("runtime stage", "no USER: the container would run as root")
	case err != nil:
		f.add("runtime stage", "USER %q is not numeric: Kubernetes cannot verify runAsNonRoot", user)
	case n == 0:
		f.add("runtime stage", "USER %q is root", user)
	}
	if env["NODE_ENV"] != "production" {
		f.add("runtime stage", "NODE_ENV is %q, want production", env["NODE_ENV"])
	}
	if entrypoint == nil || entrypoint.PrependShell || !equal(entrypoint.CmdLine, rules.Entrypoint) {
		f.add("runtime stage", "ENTRYPOINT must be exec form %q", rules.Entrypoint)
	}
	if cmd == nil || cmd.PrependShell || !equal(cmd.CmdLine, rules.Cmd) {
		f.add("runtime stage", "CMD must be exec form %q", rules.Cmd)
	}
	if !health {
		f.add("runtime stage", "no HEALTHCHECK")
	}
	return f
}

// ValidateBuildContext checks every local COPY/ADD source exists in the repo and survives the
// ignore file, and that files which must never reach the context are excluded.
func ValidateBuildContext(d *Dockerfile, repoRoot, ignoreFile string, mustExclude []string) []string {
	var problems []string
	raw, err := os.ReadFile(ignoreFile)
	if err != nil {
		return []string{err.Error()}
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(raw))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", ignoreFile, err)}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", ignoreFile, err)}
	}
	excluded := func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", rel, err))
		}
		return ok
	}
	for _, s := range d.Stages {
		for _, c := range s.Commands {
			var srcs []string
			switch x := c.(type) {
			case *instructions.CopyCommand:
				if x.From != "" {
					continue
				}
				srcs = x.SourcePaths
			case *instructions.AddCommand:
				srcs = x.SourcePaths
			default:
				continue
			}
			for _, src := range srcs {
				rel := filepath.Clean(src)
				info, err := os.Stat(filepath.Join(repoRoot, rel))
				if err != nil {
					problems = append(problems, fmt.Sprintf("COPY %s: not in the repo", src))
					continue
				}
				if excluded(rel) {
					problems = append(problems, fmt.Sprintf("COPY %s: excluded by %s", src, filepath.Base(ignoreFile)))
				}
				if info.IsDir() {
					// at least one file below must survive, or the COPY copies nothing
					kept := false
					_ = filepath.WalkDir(filepath.Join(repoRoot, rel), func(p string, de os.DirEntry, err error) error {
						if err != nil || kept || de.IsDir() {
							return err
						}
						r, _ := filepath.Rel(repoRoot, p)
						kept = !excluded(r)
						return nil
					})
					if !kept {
						problems = append(problems, fmt.Sprintf("COPY %s: every file below it is excluded", src))
					}
				}
			}
		}
	}
	for _, p := range mustExclude {
		if !excluded(p) {
			problems = append(problems, fmt.Sprintf("%s would be sent to the build context", p))
		}
	}
	return problems
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
