// Result pages: the grade distribution (ranking) and the radar of a target's dimensions
// against the campaign average (ECharts, served locally); "expand all" on the explanation tree.
document.addEventListener("DOMContentLoaded", () => {
  const read = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };
  const colors = ["#b71c1c", "#e57373", "#90a4ae", "#455a64", "#9e9e9e", "#212121"];

  const gradeEl = document.getElementById("kp-grade-chart");
  const grades = read("kp-grade-data");
  if (gradeEl && grades && window.echarts && grades.labels.length) {
    const chart = window.echarts.init(gradeEl);
    chart.setOption({
      grid: { left: 40, right: 10, top: 20, bottom: 30 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: grades.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar", name: "考核对象数", data: grades.counts.map((v, k) => ({
          value: v, itemStyle: { color: colors[k % colors.length] },
        })), label: { show: true, position: "top" },
      }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  const radarEl = document.getElementById("kp-radar");
  const radar = read("kp-radar-data");
  if (radarEl && radar && window.echarts && radar.indicators.length) {
    const chart = window.echarts.init(radarEl);
    const unit = radar.percent ? "%" : " 分";
    chart.setOption({
      legend: { data: [radar.target_name, "全体平均"], bottom: 0 },
      tooltip: { trigger: "item" },
      radar: { indicator: radar.indicators, radius: "62%", splitNumber: 4 },
      series: [{
        type: "radar",
        data: [
          { name: radar.target_name, value: radar.target, areaStyle: { opacity: 0.25 },
            itemStyle: { color: "#b71c1c" } },
          { name: "全体平均", value: radar.mean, lineStyle: { type: "dashed" },
            itemStyle: { color: "#455a64" } },
        ],
        tooltip: { valueFormatter: (v) => (v == null ? "—" : `${v}${unit}`) },
      }],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.querySelectorAll("[data-kp-expand]").forEach((button) => {
    button.addEventListener("click", () => {
      const nodes = document.querySelectorAll(".kp-explanation details");
      const open = button.dataset.open !== "1";
      nodes.forEach((d) => { d.open = open; });
      button.dataset.open = open ? "1" : "0";
      button.textContent = open ? "全部收起" : "全部展开";
    });
  });
});
