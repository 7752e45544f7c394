package check

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// ExampleEnv reads an .env.example file into KEY=VALUE pairs, giving every empty value a
// placeholder: the compose file must interpolate with exactly the variables the example
// documents (a `${VAR:?}` missing from it fails the load).
func ExampleEnv(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: %q is not KEY=VALUE", path, line)
		}
		if val == "" {
			val = "placeholder-from-env-example"
		}
		env = append(env, k+"="+val)
	}
	return env, sc.Err()
}

// LoadCompose loads a compose file with compose-go (the loader `docker compose` uses):
// interpolation, schema validation, merge keys, profiles, normalization.
func LoadCompose(ctx context.Context, file string, env []string, profiles []string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithEnv(env),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(ctx)
}

// ComposeService describes what a Mandate service must look like in compose.
type ComposeService struct {
	Name     string
	HTTPPort uint32
	GRPCPort uint32
	NeedsEnv []string
}

// MandateComposeServices are the five service apps and their default ports.
var MandateComposeServices = []ComposeService{
	{Name: "orchestrator", HTTPPort: 8081, GRPCPort: 50051},
	{Name: "policy", HTTPPort: 8082, GRPCPort: 50052, NeedsEnv: []string{"DECISION_SIGNING_KEY", "DECISION_SIGNING_KEY_ID", "POLICY_CONTROL_TOKENS"}},
	{Name: "human-review", HTTPPort: 8083, GRPCPort: 50053, NeedsEnv: []string{"POLICY_CONTROL_TOKEN"}},
	{Name: "audit-ledger", HTTPPort: 8084, GRPCPort: 50054, NeedsEnv: []string{"LEDGER_SIGNING_KEY", "LEDGER_SUBJECT_KEKS"}},
	{Name: "crm-connectors", HTTPPort: 8085, GRPCPort: 50055, NeedsEnv: []string{"DECISION_VERIFY_KEYS"}},
}

// ValidateCompose applies Mandate's rules to a loaded project; keys are service names (or
// "project"), every service present gets an entry.
func ValidateCompose(p *types.Project, repoRoot string, forbiddenEnv []string) Findings {
	f := Findings{}
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := p.Services[n]
		id := "service " + n
		f[id] = nil
		if msg := imageProblem(s.Image); msg != "" {
			f.add(id, "%s", msg)
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				f.add(id, "port %d is published on %q: bind 127.0.0.1 only", port.Target, port.HostIP)
			}
		}
		for _, bad := range forbiddenEnv {
			if _, ok := s.Environment[bad]; ok {
				f.add(id, "sets %s (test only)", bad)
			}
		}
		for k, val := range s.Environment {
			if val == nil {
				f.add(id, "environment %s has no value", k)
			}
		}
		if s.Build != nil {
			df := s.Build.Dockerfile
			if !filepath.IsAbs(df) {
				df = filepath.Join(s.Build.Context, df)
			}
			if _, err := os.Stat(df); err != nil {
				f.add(id, "build dockerfile: %v", err)
			}
			if ctxAbs, _ := filepath.Abs(s.Build.Context); ctxAbs != repoRoot {
				f.add(id, "build context %s is not the repo root %s", s.Build.Context, repoRoot)
			}
			// The app image: hardened like the k8s pods.
			if !s.ReadOnly {
				f.add(id, "read_only is not true")
			}
			if !contains(s.CapDrop, "ALL") {
				f.add(id, "cap_drop does not contain ALL")
			}
			if !contains(s.SecurityOpt, "no-new-privileges:true") {
				f.add(id, "security_opt lacks no-new-privileges:true")
			}
			if len(s.Command) == 0 {
				f.add(id, "no command: say which app runs")
			} else if entry := s.Command[0]; strings.HasPrefix(entry, "apps/") {
				if _, err := os.Stat(filepath.Join(repoRoot, strings.TrimSuffix(entry, ".js")+".ts")); err != nil {
					f.add(id, "command runs %s, but its source %s.ts does not exist", entry, strings.TrimSuffix(entry, ".js"))
				}
			}
		}
		if s.HealthCheck == nil {
			f.add(id, "no healthcheck")
		}
	}
	for _, want := range MandateComposeServices {
		id := "service " + want.Name
		s, ok := p.Services[want.Name]
		if !ok {
			f.add("project", "service %s is missing", want.Name)
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		if env["HTTP_PORT"] != fmt.Sprint(want.HTTPPort) || env["GRPC_PORT"] != fmt.Sprint(want.GRPCPort) {
			f.add(id, "HTTP_PORT/GRPC_PORT = %q/%q, want %d/%d", env["HTTP_PORT"], env["GRPC_PORT"], want.HTTPPort, want.GRPCPort)
		}
		if len(s.Command) != 1 || s.Command[0] != "apps/"+want.Name+"/src/main.js" {
			f.add(id, "command %v, want [apps/%s/src/main.js]", s.Command, want.Name)
		}
		published := map[uint32]bool{}
		for _, port := range s.Ports {
			published[port.Target] = true
		}
		if !published[want.HTTPPort] || !published[want.GRPCPort] {
			f.add(id, "publishes %v, want container ports %d and %d", s.Ports, want.HTTPPort, want.GRPCPort)
		}
		for _, k := range append([]string{"KAFKA_BROKERS", "MONGO_URL"}, want.NeedsEnv...) {
			if env[k] == "" {
				f.add(id, "environment %s is not set", k)
			}
		}
		for _, dep := range []struct{ name, cond string }{
			{"kafka", types.ServiceConditionHealthy},
			{"mongo", types.ServiceConditionHealthy},
			{"topics", types.ServiceConditionCompletedSuccessfully},
		} {
			if d, ok := s.DependsOn[dep.name]; !ok || d.Condition != dep.cond {
				f.add(id, "depends_on %s must have condition %s", dep.name, dep.cond)
			}
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "/ready") {
			f.add(id, "healthcheck must probe /ready (so depends_on and up --wait mean ready)")
		}
		if s.Restart == "" || s.Restart == "no" {
			f.add(id, "restart policy %q: a service should come back after a crash", s.Restart)
		}
	}
	if t, ok := p.Services["topics"]; ok {
		if strings.Join(t.Command, " ") != "apps/mandate/src/main.js topics apply" {
			f.add("service topics", "command %v, want apps/mandate/src/main.js topics apply", t.Command)
		}
		if t.Restart != "no" && t.Restart != "" {
			f.add("service topics", "a one-shot job must not restart (restart %q)", t.Restart)
		}
	} else {
		f.add("project", "service topics is missing")
	}
	if k, ok := p.Services["kafka"]; ok {
		env := func(key string) string {
			if v := k.Environment[key]; v != nil {
				return *v
			}
			return ""
		}
		if !strings.Contains(env("KAFKA_PROCESS_ROLES"), "controller") {
			f.add("service kafka", "not a KRaft combined node (KAFKA_PROCESS_ROLES)")
		}
		for _, rf := range []string{"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"} {
			if env(rf) != "1" {
				f.add("service kafka", "%s must be 1 on a single node", rf)
			}
		}
		for _, want := range MandateComposeServices {
			if s, ok := p.Services[want.Name]; ok {
				if b := s.Environment["KAFKA_BROKERS"]; b != nil && !strings.Contains(env("KAFKA_ADVERTISED_LISTENERS"), "//"+*b) {
					f.add("service kafka", "advertised listeners %q do not include %s's KAFKA_BROKERS %q", env("KAFKA_ADVERTISED_LISTENERS"), want.Name, *b)
				}
			}
		}
	} else {
		f.add("project", "service kafka is missing")
	}
	if _, ok := p.Services["mongo"]; !ok {
		f.add("project", "service mongo is missing")
	}
	return f
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
