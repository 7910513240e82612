set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "token_accuracy_vs_length.png"
set title "selective-copy: test token accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "token accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [51.2:160]
set xtics ("64" 64, "128" 128)
plot '-' using 1:2:3:4 with yerrorlines title "gpt" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "lstm-chrono" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "mamba" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "mamba-lti" lw 2 lc 4, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
64 0.66435 0.5360206250000001 0.7661849999999999
128 0.46299999999999997 0.417798125 0.50708375
e
64 0.195125 0.188849375 0.20115124999999998
128 0.15994999999999998 0.147846875 0.170325
e
64 0.0693 0.062349375000000005 0.077100625
128 0.065825 0.0619 0.06994999999999998
e
64 0.0637 0.056874375 0.07135
128 0.06205000000000001 0.058574375000000005 0.06540062499999999
e
64 0.77975
64 0.749
64 0.440375
64 0.7575
64 0.595125
128 0.52875
128 0.50875
128 0.433125
128 0.457125
128 0.38725
e
64 0.191875
64 0.2
64 0.18775
64 0.198125
64 0.197875
128 0.174125
128 0.167125
128 0.15825
128 0.163625
128 0.136625
e
64 0.074125
64 0.069375
64 0.081125
64 0.06225
64 0.059625
128 0.068375
128 0.064875
128 0.071375
128 0.0625
128 0.062
e
64 0.06325
64 0.06575
64 0.076625
64 0.0595
64 0.053375
128 0.062
128 0.063625
128 0.066
128 0.057625
128 0.061
e
64 0.0625
128 0.0625
e
