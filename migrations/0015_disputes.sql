-- Disputes (矛盾纠纷, issue 16): a case of category 'dispute' with a
-- mediation record — its kind, its parties (personal data), its mediators,
-- the level that holds it (group → village → township → county), its
-- mediation sessions, its outcome and the agreement. The rules are the root
-- package's (dispute.go); writes are postgis/disputes.go's, each one
-- transaction with the record (its version one more), the session and an
-- audit record appended last (the lock order of migration 0011's header).
--
-- Also: the synthetic flag of the demo's history of cases, and the indexes
-- the 1,000,000-case benchmark's plans asked for (cmd/onemap-bench cases).

-- dispute_kinds: the kinds of dispute the county screens for. The county's
-- report names 7 kinds of dispute situation without listing them; these 7
-- are the commonest kinds of the people's mediation statistics of the
-- Ministry of Justice (人民调解案件分类: 婚姻家庭、邻里、土地山林权属、
-- 征地拆迁、劳动争议、合同债务、医疗…), and the topics of the county's own
-- professional mediation committees (demo/names.go), plus 其他 for what fits
-- none. They are reference data the county changes: add a row, rename one,
-- or set active = false (a kind no longer offered is never deleted while
-- disputes name it).
CREATE TABLE dispute_kinds (
    code   text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name   text NOT NULL UNIQUE CHECK (name <> '' AND char_length(name) <= 100),
    active boolean NOT NULL DEFAULT true,
    sort   integer NOT NULL DEFAULT 0
);
INSERT INTO dispute_kinds (code, name, sort) VALUES
    ('marriage_family', '婚姻家庭纠纷', 1),
    ('neighbour', '邻里纠纷', 2),
    ('land_forest', '土地山林水利权属纠纷', 3),
    ('expropriation', '征地拆迁纠纷', 4),
    ('labour', '劳资纠纷', 5),
    ('contract_debt', '合同债务纠纷', 6),
    ('medical', '医疗纠纷', 7),
    ('other', '其他纠纷', 8);

-- people_categories: the 12 categories of people (重点人群) a party may
-- belong to. The report counts 12 without naming them; these are the
-- special groups of GB/T 31000-2015 (社会治安综合治理基础数据规范: 刑满释放、
-- 社区矫正、吸毒、严重精神障碍、艾滋病危险、重点青少年) and the groups the
-- civil-affairs and petition work names (重点信访、农村留守、独居空巢老人、
-- 残疾人、困难群众、个人极端行为风险). The county changes them as it does
-- the kinds.
CREATE TABLE people_categories (
    code   text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name   text NOT NULL UNIQUE CHECK (name <> '' AND char_length(name) <= 100),
    active boolean NOT NULL DEFAULT true,
    sort   integer NOT NULL DEFAULT 0
);
INSERT INTO people_categories (code, name, sort) VALUES
    ('released_prisoner', '刑满释放人员', 1),
    ('community_correction', '社区矫正对象', 2),
    ('drug_user', '吸毒人员', 3),
    ('mental_disorder', '严重精神障碍患者', 4),
    ('hiv_risk', '艾滋病危险人员', 5),
    ('youth', '重点青少年', 6),
    ('petitioner', '重点信访人员', 7),
    ('left_behind', '农村留守人员', 8),
    ('elderly_alone', '独居空巢老人', 9),
    ('disabled', '残疾人', 10),
    ('hardship', '困难群众', 11),
    ('extreme_risk', '个人极端行为风险人员', 12);

-- disputes: one mediation record per dispute case, as it stands now. level
-- and grid_id are the grid whose mediators hold it (escalating moves it to
-- the parent grid); township_id is the township of the dispute's place, for
-- the settlement rate per township. outcome: mediating (open), settled,
-- court or arbitration (referred). Parties and mediators are JSON arrays:
-- a record is read and written whole, never searched by a party.
CREATE TABLE disputes (
    case_id      bigint PRIMARY KEY REFERENCES cases (id),
    kind         text NOT NULL REFERENCES dispute_kinds (code),
    summary      text NOT NULL DEFAULT '' CHECK (char_length(summary) <= 2000),
    parties      jsonb NOT NULL DEFAULT '[]', -- personal: [{name, phone, id_number, side, category}]
    mediators    jsonb NOT NULL DEFAULT '[]', -- ["name", …]
    level        text NOT NULL CHECK (level IN ('group', 'village', 'township', 'county')),
    grid_id      bigint NOT NULL,
    township_id  bigint,
    outcome      text NOT NULL CHECK (outcome IN ('mediating', 'settled', 'court', 'arbitration')),
    agreement    text NOT NULL DEFAULT '' CHECK (char_length(agreement) <= 4000),
    escalations  integer NOT NULL DEFAULT 0,
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    synthetic    boolean NOT NULL DEFAULT false,
    CHECK ((ended_at IS NOT NULL) = (outcome <> 'mediating')),
    CHECK (outcome <> 'settled' OR agreement <> '')
);
-- Settlement rates per township and period, and a grid's disputes.
CREATE INDEX disputes_township ON disputes (township_id, created_at);
CREATE INDEX disputes_grid ON disputes (grid_id, created_at);
CREATE INDEX disputes_created ON disputes (created_at);

-- dispute_sessions: each dispute's mediation sessions, in order; never
-- changed. result: not_settled (mediation goes on at the same level),
-- escalated (to the parent grid, the next level), settled, court or
-- arbitration.
CREATE TABLE dispute_sessions (
    case_id   bigint NOT NULL REFERENCES disputes (case_id),
    seq       integer NOT NULL CHECK (seq >= 1),
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    level     text NOT NULL CHECK (level IN ('group', 'village', 'township', 'county')),
    grid_id   bigint NOT NULL,
    mediators jsonb NOT NULL DEFAULT '[]',
    note      text NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    result    text NOT NULL CHECK (result IN ('not_settled', 'escalated', 'settled', 'court', 'arbitration')),
    PRIMARY KEY (case_id, seq)
);
CREATE TRIGGER dispute_sessions_append_only BEFORE UPDATE OR DELETE ON dispute_sessions
    FOR EACH ROW EXECUTE FUNCTION case_steps_append_only();

-- The demo's history of cases is synthetic, and says so.
ALTER TABLE cases ADD COLUMN synthetic boolean NOT NULL DEFAULT false;

-- Indexes the 1,000,000-case benchmark's plans asked for (onemap-bench
-- cases; README "Cases at scale"):
-- an operator's queue lists open cases newest first: without this index it
-- walked the primary key backwards through the closed history (745 ms at
-- p99 over 100,000 cases); with it, it reads the open cases only.
CREATE INDEX cases_open_id ON cases (id DESC)
    WHERE status IN ('reported', 'accepted', 'assigned', 'handling', 'feedback');
-- A grid's case statistics over a period, from the index alone: one range
-- per grid of the subtree (grid_id = ANY(ARRAY(subtree)), not IN (CTE),
-- whose row estimate sends the planner to the county-wide created_at
-- index). It replaces 0014's plain index of the same columns.
DROP INDEX IF EXISTS cases_grid_created;
CREATE INDEX cases_grid_created ON cases (grid_id, created_at) INCLUDE (status, closed_at, close_due);
