// The progress chart: done vs. open per stage, in percent (ECharts, served locally).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("kp-progress-chart");
  const data = JSON.parse(document.getElementById("kp-progress-data").textContent);
  if (!el || !window.echarts || !data.labels.length) return;
  const chart = window.echarts.init(el);
  chart.setOption({
    grid: { left: 70, right: 20, top: 30, bottom: 20 },
    legend: { data: ["已完成", "未完成"], top: 0 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${v}%` },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: data.labels },
    series: [
      { name: "已完成", type: "bar", stack: "all", data: data.done, itemStyle: { color: "#b71c1c" } },
      { name: "未完成", type: "bar", stack: "all", data: data.todo, itemStyle: { color: "#e5e7eb" } },
    ],
  });
  window.addEventListener("resize", () => chart.resize());
});
