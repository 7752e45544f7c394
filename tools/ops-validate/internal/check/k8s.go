package check

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one rendered manifest: its identity, its JSON and, once decoded, its typed struct.
type Object struct {
	APIVersion, Kind, Name, Namespace string
	JSON                              []byte
	Typed                             any
}

// ID names the object in check output, e.g. "Deployment/policy".
func (o *Object) ID() string { return o.Kind + "/" + o.Name }

// Render runs kustomize in-process (the same code as `kubectl kustomize`) on dir, with the CLI's
// default (legacy) resource order: Namespace first, then config, then workloads.
func Render(fSys filesys.FileSystem, dir string) ([]*Object, error) {
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(fSys, dir)
	if err != nil {
		return nil, err
	}
	var out []*Object
	for _, r := range m.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", r.GetKind(), r.GetName(), err)
		}
		out = append(out, &Object{APIVersion: r.GetApiVersion(), Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(), JSON: js})
	}
	return out, nil
}

// The kinds Mandate ships. Anything else in a render is an error: it would not be validated.
var knownKinds = map[string]func() any{
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                      func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
}

// DecodeStrict decodes obj into its typed k8s.io/api struct the way the API server does in
// strict field validation: case-sensitive, unknown or duplicate fields are errors.
func DecodeStrict(obj *Object) error {
	newT, ok := knownKinds[obj.APIVersion+"/"+obj.Kind]
	if !ok {
		return fmt.Errorf("apiVersion %q kind %q is not a kind this validator knows", obj.APIVersion, obj.Kind)
	}
	typed := newT()
	strictErrs, err := kjson.UnmarshalStrict(obj.JSON, typed, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	// Unknown fields are dropped but the rest decoded: keep it, so the rules still run.
	obj.Typed = typed
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// Rules are Mandate's own deployment rules, beyond what the API server would accept.
type Rules struct {
	// Secrets that pods may reference without the render containing them: created out of band.
	ExternalSecrets []string
	// Env names that must never be set by a manifest (test-only switches).
	ForbiddenEnv []string
	// Keys that are secret material and must never appear in a rendered ConfigMap or Secret.
	NeverCommittedKeys []string
	// Upper bound for HPA maxReplicas: Kafka partitions per topic (more consumers sit idle).
	MaxReplicas int32
}

// MandateRules are the rules for Mandate's k8s/ tree.
func MandateRules(partitions int32) Rules {
	return Rules{
		ExternalSecrets: []string{
			"mandate-decision-signing-key", "mandate-mongo", "mandate-ledger-keys", "mandate-api-tokens",
			"mandate-crm-connectors", "mandate-policy-control",
		},
		ForbiddenEnv:       []string{"MANDATE_FAILPOINTS"},
		NeverCommittedKeys: []string{"DECISION_SIGNING_KEY", "LEDGER_SIGNING_KEY", "LEDGER_SUBJECT_KEKS", "CRM_CONNECTORS", "POLICY_CONTROL_TOKEN"},
		MaxReplicas:        partitions,
	}
}

// Findings maps an object id (or "render" for whole-render problems) to its problems.
type Findings map[string][]string

func (f Findings) add(id, format string, args ...any) {
	f[id] = append(f[id], fmt.Sprintf(format, args...))
}

// Validate decodes every object strictly and applies the rules. Every object gets an entry (an
// empty one when clean), so that callers can report one check per object.
func Validate(objs []*Object, rules Rules) Findings {
	f := Findings{}
	for _, o := range objs {
		f[o.ID()] = nil
		if err := DecodeStrict(o); err != nil {
			f.add(o.ID(), "%v", err)
		}
	}
	v := &validator{objs: objs, rules: rules, f: f}
	v.run()
	return f
}

type podOwner struct {
	obj      *Object
	template *corev1.PodTemplateSpec
	longRun  bool // a server (probes required), not a run-to-completion Job
}

type validator struct {
	objs  []*Object
	rules Rules
	f     Findings
	pods  []podOwner
}

// cadd records a problem of one container (cid is its "container \"x\": " prefix).
func (v *validator) cadd(id, cid, format string, args ...any) {
	v.f.add(id, "%s%s", cid, fmt.Sprintf(format, args...))
}

func (v *validator) byKind(kind string) []*Object {
	var out []*Object
	for _, o := range v.objs {
		if o.Kind == kind && o.Typed != nil {
			out = append(out, o)
		}
	}
	return out
}

func (v *validator) find(kind, name string) *Object {
	for _, o := range v.byKind(kind) {
		if o.Name == name {
			return o
		}
	}
	return nil
}

func (v *validator) run() {
	for _, o := range v.byKind("Deployment") {
		d := o.Typed.(*appsv1.Deployment)
		v.pods = append(v.pods, podOwner{o, &d.Spec.Template, true})
	}
	for _, o := range v.byKind("Job") {
		j := o.Typed.(*batchv1.Job)
		v.pods = append(v.pods, podOwner{o, &j.Spec.Template, false})
	}
	v.objectMeta()
	v.namespaces()
	for _, p := range v.pods {
		v.podSpec(p)
	}
	v.deployments()
	v.jobs()
	v.services()
	v.hpas()
	v.pdbs()
	v.networkPolicies()
	v.configData()
}

// objectMeta: names, labels and annotations the API server would accept.
func (v *validator) objectMeta() {
	for _, o := range v.objs {
		if o.Typed == nil {
			continue
		}
		meta := objectMetaOf(o.Typed)
		nameFn := apivalidation.NameIsDNSSubdomain
		if o.Kind == "Service" || o.Kind == "Namespace" {
			nameFn = apivalidation.NameIsDNSLabel
		}
		for _, e := range apivalidation.ValidateObjectMeta(meta, o.Kind != "Namespace", nameFn, field.NewPath("metadata")) {
			v.f.add(o.ID(), "%v", e)
		}
	}
}

func objectMetaOf(t any) *metav1.ObjectMeta {
	switch x := t.(type) {
	case *corev1.Namespace:
		return &x.ObjectMeta
	case *corev1.ServiceAccount:
		return &x.ObjectMeta
	case *corev1.ConfigMap:
		return &x.ObjectMeta
	case *corev1.Secret:
		return &x.ObjectMeta
	case *corev1.Service:
		return &x.ObjectMeta
	case *appsv1.Deployment:
		return &x.ObjectMeta
	case *batchv1.Job:
		return &x.ObjectMeta
	case *policyv1.PodDisruptionBudget:
		return &x.ObjectMeta
	case *autoscalingv2.HorizontalPodAutoscaler:
		return &x.ObjectMeta
	case *networkingv1.NetworkPolicy:
		return &x.ObjectMeta
	}
	panic(fmt.Sprintf("objectMetaOf: unhandled %T", t))
}

// namespaces: everything lives in one namespace that the render creates with restricted PSA.
func (v *validator) namespaces() {
	nss := v.byKind("Namespace")
	if len(nss) != 1 {
		v.f.add("render", "want exactly one Namespace, got %d", len(nss))
		return
	}
	ns := nss[0].Typed.(*corev1.Namespace)
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		v.f.add(nss[0].ID(), `label pod-security.kubernetes.io/enforce must be "restricted"`)
	}
	for _, o := range v.objs {
		if o.Kind != "Namespace" && o.Namespace != ns.Name {
			v.f.add(o.ID(), "namespace %q, want %q (the rendered Namespace)", o.Namespace, ns.Name)
		}
	}
}

func imageProblem(image string) string {
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 {
		return fmt.Sprintf("image %q has no tag (means latest): pin a tag or digest", image)
	}
	if last[i+1:] == "latest" {
		return fmt.Sprintf("image %q uses the latest tag: pin a tag or digest", image)
	}
	return ""
}

func (v *validator) podSpec(p podOwner) {
	id := p.obj.ID()
	spec := &p.template.Spec
	psc := spec.SecurityContext
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		v.f.add(id, "automountServiceAccountToken must be false (no pod calls the Kubernetes API)")
	}
	if p.longRun {
		if g := spec.TerminationGracePeriodSeconds; g == nil || *g < 20 {
			v.f.add(id, "terminationGracePeriodSeconds must be >= 20 (the app drains for up to 15 s after SIGTERM)")
		}
	}
	if spec.ServiceAccountName != "" && v.find("ServiceAccount", spec.ServiceAccountName) == nil {
		v.f.add(id, "serviceAccountName %q is not in the render", spec.ServiceAccountName)
	}
	if len(spec.Containers) == 0 {
		v.f.add(id, "no containers")
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		cid := fmt.Sprintf("container %q: ", c.Name)
		if msg := imageProblem(c.Image); msg != "" {
			v.f.add(id, "%s%s", cid, msg)
		}
		// resources
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				v.cadd(id, cid, "resources.requests.%s is not set", r)
			}
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			v.cadd(id, cid, "resources.limits.memory is not set")
		}
		// probes (servers only)
		ports := map[string]bool{}
		for _, cp := range c.Ports {
			if cp.Name != "" {
				ports[cp.Name] = true
			}
		}
		if p.longRun {
			for name, pr := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
				if pr == nil {
					v.cadd(id, cid, "%s is missing", name)
					continue
				}
				if pr.HTTPGet != nil && pr.HTTPGet.Port.StrVal != "" && !ports[pr.HTTPGet.Port.StrVal] {
					v.cadd(id, cid, "%s targets port %q, which the container does not name", name, pr.HTTPGet.Port.StrVal)
				}
			}
			if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path == "/ready" {
				v.cadd(id, cid, "livenessProbe must not use /ready: a Kafka outage would restart every pod")
			}
		}
		// security
		sc := c.SecurityContext
		nonRoot := (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
		if !nonRoot {
			v.cadd(id, cid, "runAsNonRoot is not true (pod or container securityContext)")
		}
		if (sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0) || (psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0) {
			v.cadd(id, cid, "runAsUser 0")
		}
		seccomp := (sc != nil && sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault) ||
			(psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault)
		if !seccomp {
			v.cadd(id, cid, "seccompProfile RuntimeDefault is not set (PSA restricted)")
		}
		if sc == nil {
			v.cadd(id, cid, "securityContext is missing")
		} else {
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				v.cadd(id, cid, "readOnlyRootFilesystem is not true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				v.cadd(id, cid, "allowPrivilegeEscalation is not false")
			}
			if sc.Privileged != nil && *sc.Privileged {
				v.cadd(id, cid, "privileged")
			}
			dropsAll := false
			if sc.Capabilities != nil {
				for _, d := range sc.Capabilities.Drop {
					dropsAll = dropsAll || d == "ALL"
				}
				if len(sc.Capabilities.Add) > 0 {
					v.cadd(id, cid, "adds capabilities %v", sc.Capabilities.Add)
				}
			}
			if !dropsAll {
				v.cadd(id, cid, "capabilities.drop does not contain ALL")
			}
		}
		// env
		for _, e := range c.Env {
			for _, bad := range v.rules.ForbiddenEnv {
				if e.Name == bad {
					v.cadd(id, cid, "sets %s (test only, never in a manifest)", bad)
				}
			}
			if e.ValueFrom != nil {
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					v.configMapKey(id, cid, r.Name, r.Key, r.Optional)
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					v.secretKey(id, cid, r.Name, r.Key, r.Optional)
				}
			}
		}
		for _, ef := range c.EnvFrom {
			if r := ef.ConfigMapRef; r != nil {
				cm := v.find("ConfigMap", r.Name)
				if cm == nil {
					if r.Optional == nil || !*r.Optional {
						v.cadd(id, cid, "envFrom ConfigMap %q is not in the render", r.Name)
					}
					continue
				}
				for _, bad := range v.rules.ForbiddenEnv {
					if _, ok := cm.Typed.(*corev1.ConfigMap).Data[bad]; ok {
						v.cadd(id, cid, "envFrom ConfigMap %q sets %s (test only)", r.Name, bad)
					}
				}
			}
			if r := ef.SecretRef; r != nil {
				v.secretKey(id, cid, r.Name, "", r.Optional)
			}
		}
	}
}

func (v *validator) configMapKey(id, cid, name, key string, optional *bool) {
	cm := v.find("ConfigMap", name)
	if cm == nil {
		if optional == nil || !*optional {
			v.cadd(id, cid, "ConfigMap %q is not in the render", name)
		}
		return
	}
	if _, ok := cm.Typed.(*corev1.ConfigMap).Data[key]; !ok && (optional == nil || !*optional) {
		v.cadd(id, cid, "ConfigMap %q has no key %q", name, key)
	}
}

func (v *validator) secretKey(id, cid, name, key string, optional *bool) {
	s := v.find("Secret", name)
	if s == nil {
		for _, ext := range v.rules.ExternalSecrets {
			if ext == name {
				return
			}
		}
		if optional == nil || !*optional {
			v.cadd(id, cid, "Secret %q is neither in the render nor a documented external Secret %v", name, v.rules.ExternalSecrets)
		}
		return
	}
	sec := s.Typed.(*corev1.Secret)
	_, inData := sec.Data[key]
	_, inString := sec.StringData[key]
	if key != "" && !inData && !inString && (optional == nil || !*optional) {
		v.cadd(id, cid, "Secret %q has no key %q", name, key)
	}
}

func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return !s.Empty() && s.Matches(k8slabels.Set(labels))
}

func (v *validator) deployments() {
	for _, o := range v.byKind("Deployment") {
		d := o.Typed.(*appsv1.Deployment)
		id := o.ID()
		if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
			v.f.add(id, "spec.selector does not match the pod template labels")
		}
		if d.Spec.Template.Annotations["prometheus.io/scrape"] != "true" {
			v.f.add(id, `pod annotation prometheus.io/scrape is not "true"`)
		}
		port := d.Spec.Template.Annotations["prometheus.io/port"]
		found := false
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				found = found || fmt.Sprint(p.ContainerPort) == port
			}
		}
		if !found {
			v.f.add(id, "prometheus.io/port %q is not a container port", port)
		}
		if len(d.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
			v.f.add(id, "no topologySpreadConstraints")
		}
		for _, t := range d.Spec.Template.Spec.TopologySpreadConstraints {
			if !selects(t.LabelSelector, d.Spec.Template.Labels) {
				v.f.add(id, "topologySpreadConstraint on %s does not select the Deployment's own pods", t.TopologyKey)
			}
		}
		hasPDB, hasSvc := false, false
		for _, p := range v.byKind("PodDisruptionBudget") {
			hasPDB = hasPDB || selects(p.Typed.(*policyv1.PodDisruptionBudget).Spec.Selector, d.Spec.Template.Labels)
		}
		for _, s := range v.byKind("Service") {
			sel := s.Typed.(*corev1.Service).Spec.Selector
			hasSvc = hasSvc || selects(&metav1.LabelSelector{MatchLabels: sel}, d.Spec.Template.Labels)
		}
		if !hasPDB {
			v.f.add(id, "no PodDisruptionBudget selects its pods")
		}
		if !hasSvc {
			v.f.add(id, "no Service selects its pods")
		}
	}
}

func (v *validator) jobs() {
	for _, o := range v.byKind("Job") {
		j := o.Typed.(*batchv1.Job)
		if rp := j.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
			v.f.add(o.ID(), "restartPolicy must be Never or OnFailure, got %q", rp)
		}
		if j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
			v.f.add(o.ID(), "set backoffLimit and activeDeadlineSeconds so a broken run ends")
		}
		// `kubectl apply -l mandate.dev/phase=bootstrap` must be able to run the Job on its own.
		if o.Typed.(*batchv1.Job).Labels["mandate.dev/phase"] == "bootstrap" {
			v.bootstrapClosure(o, &j.Spec.Template)
		}
	}
}

func (v *validator) bootstrapClosure(job *Object, t *corev1.PodTemplateSpec) {
	need := func(kind, name string) {
		o := v.find(kind, name)
		if o != nil && objectMetaOf(o.Typed).Labels["mandate.dev/phase"] != "bootstrap" {
			v.f.add(job.ID(), "%s/%s is needed by the bootstrap Job but lacks label mandate.dev/phase=bootstrap", kind, name)
		}
	}
	for _, ns := range v.byKind("Namespace") {
		need("Namespace", ns.Name)
	}
	need("ServiceAccount", t.Spec.ServiceAccountName)
	for _, c := range t.Spec.Containers {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				need("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				need("ConfigMap", ef.ConfigMapRef.Name)
			}
		}
	}
	for _, np := range v.byKind("NetworkPolicy") {
		spec := np.Typed.(*networkingv1.NetworkPolicy).Spec
		empty := len(spec.PodSelector.MatchLabels) == 0 && len(spec.PodSelector.MatchExpressions) == 0
		if empty || selects(&spec.PodSelector, t.Labels) {
			need("NetworkPolicy", np.Name)
		}
	}
}

func (v *validator) services() {
	for _, o := range v.byKind("Service") {
		s := o.Typed.(*corev1.Service)
		id := o.ID()
		if len(s.Spec.Selector) == 0 {
			v.f.add(id, "no selector")
			continue
		}
		var targets []podOwner
		for _, p := range v.pods {
			if selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, p.template.Labels) {
				targets = append(targets, p)
			}
		}
		if len(targets) == 0 {
			v.f.add(id, "selector %v selects no pod template in the render", s.Spec.Selector)
		}
		for _, sp := range s.Spec.Ports {
			if sp.TargetPort.StrVal == "" {
				v.f.add(id, "port %q: targetPort must name a container port, got %q", sp.Name, sp.TargetPort.String())
				continue
			}
			for _, t := range targets {
				ok := false
				for _, c := range t.template.Spec.Containers {
					for _, cp := range c.Ports {
						ok = ok || (cp.Name == sp.TargetPort.StrVal && cp.Protocol == sp.Protocol)
					}
				}
				if !ok {
					v.f.add(id, "port %q: targetPort %q is not a named %s port of %s", sp.Name, sp.TargetPort.StrVal, sp.Protocol, t.obj.ID())
				}
			}
		}
	}
}

func (v *validator) hpas() {
	for _, o := range v.byKind("HorizontalPodAutoscaler") {
		h := o.Typed.(*autoscalingv2.HorizontalPodAutoscaler)
		id := o.ID()
		ref := h.Spec.ScaleTargetRef
		target := v.find(ref.Kind, ref.Name)
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || target == nil {
			v.f.add(id, "scaleTargetRef %s %s/%s is not a Deployment in the render", ref.APIVersion, ref.Kind, ref.Name)
		} else if target.Typed.(*appsv1.Deployment).Spec.Replicas != nil {
			v.f.add(id, "%s sets spec.replicas: every apply would fight the HPA; leave it unset", target.ID())
		}
		minR := int32(1)
		if h.Spec.MinReplicas != nil {
			minR = *h.Spec.MinReplicas
		}
		if minR < 1 || minR > h.Spec.MaxReplicas {
			v.f.add(id, "minReplicas %d must be within 1..maxReplicas (%d)", minR, h.Spec.MaxReplicas)
		}
		if v.rules.MaxReplicas > 0 && h.Spec.MaxReplicas > v.rules.MaxReplicas {
			v.f.add(id, "maxReplicas %d exceeds the Kafka partitions per topic (%d): extra consumers sit idle", h.Spec.MaxReplicas, v.rules.MaxReplicas)
		}
		cpu := false
		for _, m := range h.Spec.Metrics {
			cpu = cpu || (m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU)
		}
		if !cpu {
			v.f.add(id, "no CPU resource metric")
		}
	}
}

func (v *validator) pdbs() {
	for _, o := range v.byKind("PodDisruptionBudget") {
		p := o.Typed.(*policyv1.PodDisruptionBudget)
		if (p.Spec.MaxUnavailable == nil) == (p.Spec.MinAvailable == nil) {
			v.f.add(o.ID(), "set exactly one of maxUnavailable and minAvailable")
		}
		n := 0
		for _, pod := range v.pods {
			if selects(p.Spec.Selector, pod.template.Labels) {
				n++
			}
		}
		if n == 0 {
			v.f.add(o.ID(), "selector selects no pod template in the render")
		}
	}
}

func (v *validator) networkPolicies() {
	defaultDeny := false
	for _, o := range v.byKind("NetworkPolicy") {
		spec := o.Typed.(*networkingv1.NetworkPolicy).Spec
		empty := len(spec.PodSelector.MatchLabels) == 0 && len(spec.PodSelector.MatchExpressions) == 0
		if empty {
			types := map[networkingv1.PolicyType]bool{}
			for _, t := range spec.PolicyTypes {
				types[t] = true
			}
			if types[networkingv1.PolicyTypeIngress] && types[networkingv1.PolicyTypeEgress] && len(spec.Ingress) == 0 && len(spec.Egress) == 0 {
				defaultDeny = true
			}
			continue
		}
		n := 0
		for _, pod := range v.pods {
			if selects(&spec.PodSelector, pod.template.Labels) {
				n++
			}
		}
		if n == 0 {
			v.f.add(o.ID(), "podSelector selects no pod template in the render (a dead policy)")
		}
		if len(spec.PolicyTypes) == 0 {
			v.f.add(o.ID(), "policyTypes not set")
		}
	}
	if !defaultDeny {
		v.f.add("render", "no default-deny NetworkPolicy (empty podSelector, Ingress+Egress, no rules)")
	}
}

// configData: no test switch in config, no private key in any rendered ConfigMap or Secret.
func (v *validator) configData() {
	check := func(o *Object, keys []string) {
		for _, k := range keys {
			for _, bad := range v.rules.ForbiddenEnv {
				if k == bad {
					v.f.add(o.ID(), "contains %s (test only)", bad)
				}
			}
			for _, bad := range v.rules.NeverCommittedKeys {
				if k == bad {
					v.f.add(o.ID(), "contains %s: secret material is created out of band, never rendered", bad)
				}
			}
		}
	}
	for _, o := range v.byKind("ConfigMap") {
		cm := o.Typed.(*corev1.ConfigMap)
		check(o, keysOf(cm.Data))
	}
	for _, o := range v.byKind("Secret") {
		s := o.Typed.(*corev1.Secret)
		keys := keysOf(s.StringData)
		for k := range s.Data {
			keys = append(keys, k)
		}
		check(o, keys)
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Placeholders lists ConfigMap values still holding a REPLACE_ marker: deploy-time inputs.
func Placeholders(objs []*Object) []string {
	var out []string
	for _, o := range objs {
		if cm, ok := o.Typed.(*corev1.ConfigMap); ok {
			for _, k := range keysOf(cm.Data) {
				if strings.Contains(cm.Data[k], "REPLACE_") {
					out = append(out, fmt.Sprintf("%s %s", o.ID(), k))
				}
			}
		}
	}
	return out
}

// ImagesTakeEffect checks that the images: entries of the kustomization in dir are what the
// render runs: an entry whose name no longer matches (e.g. a base already renamed the image)
// is silently ignored by kustomize.
func ImagesTakeEffect(fSys filesys.FileSystem, dir string, objs []*Object) []string {
	raw, err := fSys.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		return []string{fmt.Sprintf("kustomization.yaml: %v", err)}
	}
	want := map[string]bool{}
	for _, im := range k.Images {
		name := im.Name
		if im.NewName != "" {
			name = im.NewName
		}
		switch {
		case im.Digest != "":
			want[name+"@"+im.Digest] = true
		case im.NewTag != "":
			want[name+":"+im.NewTag] = true
		default:
			return []string{fmt.Sprintf("images entry %q sets neither newTag nor digest", im.Name)}
		}
	}
	if len(want) == 0 {
		return []string{"kustomization.yaml has no images: entry to pin the image"}
	}
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
			if !want[c.Image] {
				problems = append(problems, fmt.Sprintf("%s container %q runs %q, not an image this kustomization sets (%v)", o.ID(), c.Name, c.Image, keysOfBool(want)))
			}
		}
	}
	return problems
}

func keysOfBool(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
