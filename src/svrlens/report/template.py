"""The report's HTML template (Jinja2, autoescaped: every value from results files is escaped)."""

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5em;color:#1d1d1f}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f4f4f6}td.l,th.l{text-align:left}
.recognition{color:#b3261e;font-weight:600}.reconstruction{color:#1b6e2f;font-weight:600}
.mixed{color:#8a6d00;font-weight:600}.collapsed{color:#555;font-weight:600}
.passed{color:#1b6e2f;font-weight:600}.failed,.notmade{color:#b3261e;font-weight:600}
.why{font-size:.9em;color:#333}.flag{color:#b3261e;font-weight:600}
.caveat{border-left:4px solid #8a6d00;background:#fff8e1;padding:.5em 1em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}pre{background:#f6f6f8;padding:.8em;overflow:auto;font-size:.8em}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2em 1em}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}.broken{outline:3px solid #b3261e}
"""

# Marks any figure that failed to decode (visible outline) and records the count for tests.
CHECK = """
window.addEventListener('load',function(){var bad=0;document.querySelectorAll('img').forEach(function(i){
if(!i.complete||i.naturalWidth===0){bad++;i.classList.add('broken');}});
document.body.setAttribute('data-broken-figures',String(bad));
document.body.setAttribute('data-overflow',String(document.documentElement.scrollWidth>window.innerWidth));});
"""

TEMPLATE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{ title }}</title><style>{{ style | safe }}</style></head><body>
<h1>{{ title }}</h1>
{% if caveat %}<p class="caveat"><strong>Not the result.</strong> {{ caveat }}</p>{% endif %}
<p>Does the network <em>reconstruct</em> the shape in the image, or <em>recognise</em> the image and emit a
memorised shape? The paper's answer: it recognises only when the training shapes are clustered and the
training images are not (Case 1); otherwise it reconstructs.</p>

<h2>Verdict per data set</h2>
<div class="scroll"><table>
<tr><th class="l">data set</th><th>Case</th><th class="l">verdict</th><th>within-cluster gain [{{ level }}]
</th>
<th class="l">why</th></tr>
{% for row in verdicts %}<tr><td class="l">{{ row.name }}</td><td>{{ row.case }}</td>
<td class="l {{ row.verdict }}">{{ row.verdict }}{% if row.flag %}<br><span class="flag">{{ row.flag }}
</span>{% endif %}</td>
<td>{{ row.gain }}<br>{{ row.interval }}</td><td class="l why">{{ row.why }}</td></tr>
{% endfor %}</table></div>
<p class="why"><strong>The rule.
</strong> Definition 1 (recognition): the output depends on the image only through
a cluster index; Definition 2 (reconstruction): it follows the image. Within each training-shape cluster
 that
the predictions fall into, the <em>within-cluster gain
</em> is the slope of where a prediction lands (the test
truth it is nearest to) on where its truth is: 0 under Definition 1, 1 under Definition 2, whatever the
 quality
or sampling of the outputs. The verdict is "recognition" when its {{ level }} interval lies below ½,
"reconstruction" above, "mixed" when it straddles ½; "collapsed" when the gain without clusters is below ½
 too
(the output does not follow the input at all). Every shape distance is an excess over the sampling floor
(what a perfect {{ points }}-point sample scores against the dense truth: {{ floor }} Chamfer).</p>

{% if checks %}<h2>The paper's result, checked</h2><ul>
{% for check in checks %}<li class="{{ check.css }}">{{ check.text }}: {{ check.word }}</li>{% endfor %}
</ul>{% endif %}

<h2>Figures</h2>
{% for figure in figures %}<figure>
<img alt="{{ figure.caption }}" src="data:image/png;base64,{{ figure.data }}">
<figcaption>{{ figure.caption }}</figcaption></figure>
{% endfor %}

<h2>Every number</h2>
<p>{{ numbers_note }}</p>
{% for table in tables %}{% if table.title %}<h3>{{ table.title }}</h3>{% endif %}
<div class="scroll"><table><tr>{% for cell in table.head %}
<th{% if loop.first %} class="l"{% endif %}>{{ cell }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for cell in row %}
<td{% if loop.first %} class="l"{% endif %}>{% for line in cell %}{{ line }}{% if not loop.last %}
<br>{% endif %}{% endfor %}</td>{% endfor %}</tr>
{% endfor %}</table></div>{% endfor %}

<h2>Provenance</h2><dl>{% for key, value in provenance %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}
</dl>
{% if hashes %}<details><summary>data hashes (SHA-256 of every array)</summary><dl>
{% for key, value in hashes %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}</dl></details>{% endif %}
{% if spec %}<details><summary>the spec (configuration, seeds)</summary><pre>{{ spec }}</pre>
</details>{% endif %}
<script>{{ check_script | safe }}</script>
</body></html>
"""
