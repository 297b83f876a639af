/** The page's only stylesheet (inline; system fonts, nothing fetched). */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --line: #d9dee3; --best: #ff7f0e; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: var(--ink); font: 15px/1.55 "DejaVu Sans", Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p, li { max-width: 78ch; }
.lede { color: var(--muted); margin-top: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
figure { margin: 14px 0; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 8px; max-width: 90ch; }
table { border-collapse: collapse; background: white; margin: 10px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: right; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
th:first-child, td.label { text-align: left; }
td.best { outline: 3px solid var(--best); outline-offset: -3px; font-weight: 700; }
td.full { background: #f2f2f2; }
td .sub { display: block; color: var(--muted); font-size: 12px; font-weight: 400; }
td.empty { color: #aaa; }
td.failed { color: #b00020; font-weight: 600; }
.wide { overflow-x: auto; }
code { font-size: 13px; background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
.grid-figures { display: flex; flex-wrap: wrap; gap: 14px; }
.grid-figures figure { flex: 1 1 460px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
`;
