// Command ops-validate checks Mandate's deployment files without a cluster or a Docker engine:
// kustomize overlays (rendered in-process, strictly decoded into k8s.io/api types, plus
// Mandate's rules), deploy/compose.yaml (compose-go, the loader docker compose uses) and
// deploy/Dockerfile (BuildKit's parser and linter). Usage: ops-validate -repo /path/to/repo
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/mandate/mandate/tools/ops-validate/internal/check"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	repo := flag.String("repo", ".", "repository root")
	flag.Parse()
	root, err := filepath.Abs(*repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := check.NewReport(os.Stdout)
	printVersions()
	kustomizeChecks(r, root)
	composeChecks(r, root)
	dockerfileChecks(r, root)
	fmt.Println()
	fmt.Println(r.Summary())
	if r.Failed > 0 {
		os.Exit(1)
	}
}

func printVersions() {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	var vs []string
	for _, d := range info.Deps {
		switch d.Path {
		case "sigs.k8s.io/kustomize/api", "k8s.io/api", "github.com/compose-spec/compose-go/v2", "github.com/moby/buildkit":
			vs = append(vs, d.Path+"@"+d.Version)
		}
	}
	sort.Strings(vs)
	fmt.Printf("ops-validate (%s): %s\n", info.GoVersion, strings.Join(vs, ", "))
}

// catalogPartitions reads the partition count of the topic catalog, the ceiling for replicas.
func catalogPartitions(root string) (int32, error) {
	const file = "libs/messaging/core/src/topic-catalog.ts"
	src, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^const PARTITIONS = (\d+);`).FindSubmatch(src)
	if m == nil {
		return 0, fmt.Errorf("%s: no `const PARTITIONS = <n>;`", file)
	}
	n, err := strconv.Atoi(string(m[1]))
	return int32(n), err
}

func kustomizeChecks(r *check.Report, root string) {
	r.Section("k8s: kustomize render, strict decode into k8s.io/api types, Mandate rules")
	partitions, err := catalogPartitions(root)
	r.CheckErr(fmt.Sprintf("Kafka partitions per topic read from the catalog (%d): HPA ceiling", partitions), err)
	rules := check.MandateRules(partitions)
	fSys := filesys.MakeFsOnDisk()
	for _, dir := range []string{"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"} {
		objs, err := check.Render(fSys, filepath.Join(root, dir))
		r.CheckErr(fmt.Sprintf("%s renders (%d objects)", dir, len(objs)), err)
		if err != nil {
			continue
		}
		findings := check.Validate(objs, rules)
		for _, o := range objs {
			r.Check(fmt.Sprintf("%s %s", dir, o.ID()), findings[o.ID()])
		}
		r.Check(dir+" cross-object rules (namespace, default-deny)", findings["render"])
		r.Check(dir+" entry points exist", entryPoints(root, objs))
		r.Check(dir+" images: entries take effect", check.ImagesTakeEffect(fSys, filepath.Join(root, dir), objs))
		for _, p := range check.Placeholders(objs) {
			r.Note("%s: %s still holds a REPLACE_ placeholder: set it before deploying", dir, p)
		}
	}
}

// entryPoints: every container's first arg (apps/<app>/src/main.js) has its TypeScript source.
func entryPoints(root string, objs []*check.Object) []string {
	var problems []string
	for _, o := range objs {
		var spec *corev1.PodSpec
		switch t := o.Typed.(type) {
		case *appsv1.Deployment:
			spec = &t.Spec.Template.Spec
		case *batchv1.Job:
			spec = &t.Spec.Template.Spec
		default:
			continue
		}
		for _, c := range spec.Containers {
			if len(c.Command) > 0 {
				problems = append(problems, fmt.Sprintf("%s: container %q overrides the image ENTRYPOINT", o.ID(), c.Name))
			}
			if len(c.Args) == 0 || !strings.HasPrefix(c.Args[0], "apps/") || !strings.HasSuffix(c.Args[0], "/src/main.js") {
				problems = append(problems, fmt.Sprintf("%s: container %q args %v do not start with apps/<app>/src/main.js", o.ID(), c.Name, c.Args))
				continue
			}
			if _, err := os.Stat(filepath.Join(root, strings.TrimSuffix(c.Args[0], ".js")+".ts")); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s has no source in the repo", o.ID(), c.Args[0]))
			}
		}
	}
	return problems
}

func composeChecks(r *check.Report, root string) {
	r.Section("compose: deploy/compose.yaml loaded with compose-go")
	file := filepath.Join(root, "deploy/compose.yaml")
	env, err := check.ExampleEnv(filepath.Join(root, "deploy/.env.example"))
	r.CheckErr("deploy/.env.example parses as KEY=VALUE", err)
	if err != nil {
		return
	}
	ctx := context.Background()
	def, err := check.LoadCompose(ctx, file, env, nil)
	r.CheckErr("loads (default profile, variables from .env.example)", err)
	if err == nil {
		var problems []string
		if _, ok := def.Services["mandate"]; ok {
			problems = append(problems, "the embedded mandate service runs without --profile embedded")
		}
		r.Check(fmt.Sprintf("default profile: %d services, embedded excluded", len(def.Services)), problems)
	}
	all, err := check.LoadCompose(ctx, file, env, []string{"embedded"})
	r.CheckErr("loads (--profile embedded)", err)
	if err != nil {
		return
	}
	var problems []string
	if _, ok := all.Services["mandate"]; !ok {
		problems = append(problems, "no mandate service in profile embedded")
	}
	r.Check("embedded profile has the mandate service", problems)
	findings := check.ValidateCompose(all, root, []string{"MANDATE_FAILPOINTS"})
	keys := make([]string, 0, len(findings))
	for k := range findings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "project" {
			r.Check(k, findings[k])
		}
	}
	r.Check("project: required services present, Kafka single-node KRaft", findings["project"])
}

func dockerfileChecks(r *check.Report, root string) {
	r.Section("Dockerfile: deploy/Dockerfile parsed with BuildKit's parser")
	src, err := os.ReadFile(filepath.Join(root, "deploy/Dockerfile"))
	if err != nil {
		r.CheckErr("deploy/Dockerfile readable", err)
		return
	}
	d, err := check.ParseDockerfile(src)
	r.CheckErr("parses", err)
	if err != nil {
		return
	}
	f := check.ValidateDockerfile(d, check.MandateDockerfileRules)
	r.Check("no parser warnings or BuildKit lint findings", f["lint"])
	r.Check("multi-stage, every base image is node:20-bookworm-slim", f["stages"])
	r.Check("npm ci + npm run build, production deps via npm ci --omit=dev", f["build"])
	r.Check("runtime stage: numeric non-root USER, NODE_ENV=production, ENTRYPOINT/CMD, HEALTHCHECK", f["runtime stage"])
	r.Check("build context: COPY sources exist and survive deploy/Dockerfile.dockerignore; secrets and build output excluded",
		check.ValidateBuildContext(d, root, filepath.Join(root, "deploy/Dockerfile.dockerignore"),
			[]string{".env", "deploy/.env", "node_modules/x", "dist/out-tsc/x.js", ".stack/x", ".git/config", "libs/x/src/a.spec.ts", "apps/x/node_modules/y"}))
}
