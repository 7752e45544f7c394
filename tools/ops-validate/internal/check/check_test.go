package check

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const repoRoot = "../../../.."

// hasProblem fails the test unless one of the object's problems contains want.
func hasProblem(t *testing.T, f Findings, id, want string) {
	t.Helper()
	for _, p := range f[id] {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("%s: no problem containing %q; got %q", id, want, f[id])
}

func renderAndValidate(t *testing.T, dir string) ([]*Object, Findings) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("render %s: %v", dir, err)
	}
	return objs, Validate(objs, MandateRules(6))
}

func TestBrokenFixtureIsCaught(t *testing.T) {
	_, f := renderAndValidate(t, "testdata/broken-k8s")
	// kustomize renders the typo without complaint; the strict typed decode must not.
	hasProblem(t, f, "Deployment/broken", `unknown field "spec.replica"`)
	hasProblem(t, f, "Deployment/broken", `container "app": readinessProbe is missing`)
	hasProblem(t, f, "Deployment/broken", "sets MANDATE_FAILPOINTS")
	hasProblem(t, f, "Service/broken", "targetPort must name a container port")
	if len(f["Namespace/broken"]) != 0 || len(f["PodDisruptionBudget/broken"]) != 0 {
		t.Errorf("clean objects were flagged: %q %q", f["Namespace/broken"], f["PodDisruptionBudget/broken"])
	}
}

func TestMandateOverlaysAreClean(t *testing.T) {
	for _, dir := range []string{"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"} {
		objs, f := renderAndValidate(t, filepath.Join(repoRoot, dir))
		if len(objs) < 20 {
			t.Errorf("%s: only %d objects rendered", dir, len(objs))
		}
		for id, problems := range f {
			if len(problems) > 0 {
				t.Errorf("%s %s: %q", dir, id, problems)
			}
		}
	}
}

func TestImagesTakeEffect(t *testing.T) {
	fSys := filesys.MakeFsInMemory()
	files := map[string]string{
		"/base/kustomization.yaml": "resources: [job.yaml]\nimages:\n  - name: app\n    newName: reg.example/app\n    newTag: \"1\"\n",
		"/base/job.yaml":           "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: app}]\n",
		// Matches by the original name, which the base already renamed: kustomize ignores it.
		"/dev/kustomization.yaml": "resources: [../base]\nimages:\n  - name: app\n    newTag: dev\n",
	}
	for p, c := range files {
		if err := fSys.WriteFile(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := Render(fSys, "/dev")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := DecodeStrict(o); err != nil {
			t.Fatal(err)
		}
	}
	problems := ImagesTakeEffect(fSys, "/dev", objs)
	if len(problems) != 1 || !strings.Contains(problems[0], `runs "reg.example/app:1"`) {
		t.Errorf("want the ignored images: entry reported, got %q", problems)
	}
	if p := ImagesTakeEffect(fSys, "/base", objs); len(p) != 0 {
		t.Errorf("base: %q", p)
	}
}

func TestDecodeStrictIsCaseSensitiveAndRejectsDuplicates(t *testing.T) {
	for name, js := range map[string]string{
		"wrong case": `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"Data":{"a":"b"}}`,
		"duplicate":  `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"},"data":{"c":"d"}}`,
		"unknown":    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","labelz":{}}}`,
	} {
		if err := DecodeStrict(&Object{APIVersion: "v1", Kind: "ConfigMap", JSON: []byte(js)}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if err := DecodeStrict(&Object{APIVersion: "v1", Kind: "Pod", JSON: []byte(`{}`)}); err == nil {
		t.Error("an unlisted kind decoded without error")
	}
}

func TestMissingSecretAndRules(t *testing.T) {
	objs, _ := renderAndValidate(t, filepath.Join(repoRoot, "k8s/overlays/prod"))
	rules := MandateRules(6)
	rules.ExternalSecrets = nil // now nobody creates the Secrets
	rules.MaxReplicas = 3       // and 6 replicas exceed the partitions
	f := Validate(objs, rules)
	hasProblem(t, f, "Deployment/policy", `Secret "mandate-decision-signing-key" is neither in the render`)
	hasProblem(t, f, "HorizontalPodAutoscaler/policy", "exceeds the Kafka partitions")
}

func TestComposeProblemsAreCaught(t *testing.T) {
	ctx := context.Background()
	if _, err := LoadCompose(ctx, mustAbs(t, "testdata/broken-compose/unknown-key.yaml"), nil, nil); err == nil || !strings.Contains(err.Error(), "healthchek") {
		t.Errorf("misspelt key: want a load error naming it, got %v", err)
	}
	p, err := LoadCompose(ctx, mustAbs(t, "testdata/broken-compose/compose.yaml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := ValidateCompose(p, mustAbs(t, repoRoot), []string{"MANDATE_FAILPOINTS"})
	hasProblem(t, f, "service app", "latest tag")
	hasProblem(t, f, "service app", `published on "0.0.0.0"`)
	hasProblem(t, f, "service app", "sets MANDATE_FAILPOINTS")
	hasProblem(t, f, "project", "service policy is missing")
}

func TestMandateComposeIsClean(t *testing.T) {
	env, err := ExampleEnv(filepath.Join(repoRoot, "deploy/.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadCompose(context.Background(), mustAbs(t, filepath.Join(repoRoot, "deploy/compose.yaml")), env, []string{"embedded"})
	if err != nil {
		t.Fatal(err)
	}
	for id, problems := range ValidateCompose(p, mustAbs(t, repoRoot), []string{"MANDATE_FAILPOINTS"}) {
		if len(problems) > 0 {
			t.Errorf("%s: %q", id, problems)
		}
	}
	// Without the variables .env.example documents, the required keys must stop the load.
	if _, err := LoadCompose(context.Background(), mustAbs(t, filepath.Join(repoRoot, "deploy/compose.yaml")), nil, nil); err == nil {
		t.Error("compose loaded without DECISION_SIGNING_KEY")
	}
}

func TestComposeWiresThePolicyControlCredential(t *testing.T) {
	env, err := ExampleEnv(filepath.Join(repoRoot, "deploy/.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadCompose(context.Background(), mustAbs(t, filepath.Join(repoRoot, "deploy/compose.yaml")), env, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Drop each side of the pair: the validator names what is missing where.
	for service, key := range map[string]string{"policy": "POLICY_CONTROL_TOKENS", "human-review": "POLICY_CONTROL_TOKEN"} {
		s := p.Services[service]
		delete(s.Environment, key)
		p.Services[service] = s
	}
	f := ValidateCompose(p, mustAbs(t, repoRoot), []string{"MANDATE_FAILPOINTS"})
	hasProblem(t, f, "service policy", "environment POLICY_CONTROL_TOKENS is not set")
	hasProblem(t, f, "service human-review", "environment POLICY_CONTROL_TOKEN is not set")
}

func TestPolicyControlTokenIsNeverRendered(t *testing.T) {
	objs, _ := renderAndValidate(t, filepath.Join(repoRoot, "k8s/overlays/prod"))
	leak := &Object{APIVersion: "v1", Kind: "Secret", Name: "leaky", JSON: []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"leaky"},"stringData":{"POLICY_CONTROL_TOKEN":"mdt_x"}}`)}
	if err := DecodeStrict(leak); err != nil {
		t.Fatal(err)
	}
	f := Validate(append(objs, leak), MandateRules(6))
	hasProblem(t, f, leak.ID(), "contains POLICY_CONTROL_TOKEN")
}

func TestDockerfileRuntimeUser(t *testing.T) {
	base := "FROM node:20-bookworm-slim AS build\nRUN npm ci && npm run build\n" +
		"FROM node:20-bookworm-slim\nRUN npm ci --omit=dev\nENV NODE_ENV=production\n%s" +
		"HEALTHCHECK CMD [\"true\"]\nENTRYPOINT [\"node\", \"tools/run.js\"]\nCMD [\"apps/mandate/src/main.js\", \"start\"]\n"
	for user, want := range map[string]string{
		"":            "no USER",
		"USER node\n": "not numeric",
		"USER 0:0\n":  "is root",
		"USER 1000\n": "",
		"USER root\n": "not numeric",
	} {
		d, err := ParseDockerfile([]byte(strings.Replace(base, "%s", user, 1)))
		if err != nil {
			t.Fatal(err)
		}
		f := ValidateDockerfile(d, MandateDockerfileRules)
		if want == "" {
			if len(f["runtime stage"]) != 0 {
				t.Errorf("%q: unexpected %q", user, f["runtime stage"])
			}
			continue
		}
		hasProblem(t, f, "runtime stage", want)
	}
}

func TestDockerfileLintAndBaseImage(t *testing.T) {
	d, err := ParseDockerfile([]byte("FROM node:latest as build\nRUN true\nFROM build\nUSER 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := ValidateDockerfile(d, MandateDockerfileRules)
	hasProblem(t, f, "lint", "FromAsCasing")
	hasProblem(t, f, "stages", "latest tag")
	hasProblem(t, f, "runtime stage", "ENTRYPOINT")
}

func TestBuildContextIgnoreFile(t *testing.T) {
	src := []byte("FROM node:20-bookworm-slim\nCOPY package.json ./\nCOPY tools/run.js ./tools/\nCOPY .prettierrc.json ./\n")
	d, err := ParseDockerfile(src)
	if err != nil {
		t.Fatal(err)
	}
	problems := ValidateBuildContext(d, mustAbs(t, repoRoot), filepath.Join(repoRoot, "deploy/Dockerfile.dockerignore"), []string{".env", "package.json"})
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"COPY .prettierrc.json: excluded", "package.json would be sent"} {
		if !strings.Contains(joined, want) {
			t.Errorf("want %q in %q", want, joined)
		}
	}
	for _, unwanted := range []string{"COPY package.json", "COPY tools/run.js", ".env would"} {
		if strings.Contains(joined, unwanted) {
			t.Errorf("unexpected %q in %q", unwanted, joined)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
