package demo

import (
	"time"

	"github.com/onemapgis/onemap"
	"github.com/paulmach/orb"
)

// DemoWorkerGroup is the code of the group the demo grid worker's account
// is bound to (东岳社区第一居民小组 of 狮山镇; cmd/onemap's demo accounts).
const DemoWorkerGroup = "532329101001001"

// workerTasks returns the open cases the history gives the demo grid
// worker's group, so that its task list (/m/work/) shows work on any day
// the demo is seeded: assigned to the group by its village's centre, one
// new (assigned an hour ago), one handled and due soon (its 15 days to
// close end in under two days), and one handled and overdue (its 15 days
// ended two days ago). None if the plan has no such group.
func (h *history) workerTasks() []onemap.SeedCase {
	g, ok := h.grids[DemoWorkerGroup]
	if !ok {
		return nil
	}
	village := h.grids[g.ParentCode]
	pt := g.Centre
	for range 16 {
		p := orb.Point{g.Centre[0] + (h.rng.Float64()-0.5)*0.002, g.Centre[1] + (h.rng.Float64()-0.5)*0.002}
		if _, _, code, ok := h.locate(p); ok && code == g.Code {
			pt = p
			break
		}
	}
	centre := village.Name + "综治中心"
	var out []onemap.SeedCase
	for _, task := range []struct {
		category, text string
		age            time.Duration // from the report to asOf
		handled        bool
	}{
		{"sanitation", "村口垃圾收集点满溢，无人清运", 2 * time.Hour, false},
		{"safety", "河边护栏松动，有小孩在附近玩耍", 13*24*time.Hour + 4*time.Hour, true},
		{"livelihood", "组内道路路灯损坏多日，夜间出行不便", 17 * 24 * time.Hour, true},
	} {
		at := h.asOf.Add(-task.age)
		r := onemap.CaseReport{Source: onemap.SourcePublic, Category: task.category, Point: pt,
			Description: village.Name + g.Name + "：" + task.text, ReporterPhone: h.mobile()}
		c := onemap.NewCase(r, 0, LevelVillage, at, h.limits)
		c.TrackingCode, c.ReportedBy = h.trackingCode(), "anonymous"
		p := &player{h: h, sc: onemap.SeedCase{Case: c, GridCode: g.Code, HolderCode: village.Code}}
		p.sc.Steps = []onemap.SeedCaseStep{{Step: onemap.CaseStep{Seq: 1, At: at, Actor: "anonymous", Role: onemap.RolePublic,
			Action: onemap.ActReport, To: onemap.CaseReported, Level: LevelVillage, Due: c.NextDue()}, GridCode: village.Code}}
		op := onemap.CaseAction{Actor: centre, Role: onemap.RoleOperator}
		accept, assign := op, op
		accept.Action = onemap.ActAccept
		assign.Action, assign.Assignee = onemap.ActAssign, g.WorkerName
		p.step(at.Add(30*time.Minute), accept, "")
		p.step(at.Add(time.Hour), assign, g.Code)
		if task.handled {
			handle := onemap.CaseAction{Action: onemap.ActHandle, Note: "已到现场查看，正在协调处理", Actor: g.WorkerName, Role: onemap.RoleGridWorker}
			p.step(at.Add(5*time.Hour), handle, "")
		}
		out = append(out, p.sc)
	}
	return out
}
